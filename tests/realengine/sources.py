"""One example's code, loaded twice: with ``wf`` bound to Dapr's SDK and to wfkit.

Two kinds of sources, neither edited beyond its import line:

* a Python module (the seed examples): its text is read, its ``wfkit`` import lines are
  rewritten to ``dapr.ext.workflow`` for Dapr, and it is executed as a fresh module;
* a notebook: the top-level imports, constants, classes and functions of its code cells
  (each name's first definition; later cells that redefine a name for an experiment are
  left out) are executed the same way, with ``wfr`` bound to the runtime the test made,
  so that ``@wfr.workflow`` / ``@wfr.activity`` register on it as in the notebook.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "shared" / "seeds"
NOTEBOOKS = ROOT / "notebooks"

#: The package each engine's code imports as ``wf``.
PACKAGES = {"dapr": "dapr.ext.workflow", "wfkit": "wfkit"}

#: wfkit's notebook tools, which a notebook imports beside the workflow API; a module
#: that runs on Dapr leaves them out.
TOOLS = {"timetravel", "widgets"}

_IMPORT = re.compile(r"^(import|from) wfkit( |$)", re.MULTILINE)
_count = itertools.count()


def rewrite_imports(source: str, engine: str) -> str:
    """``source`` with its ``wfkit`` import lines pointed at ``engine``'s package."""
    if engine == "wfkit":
        return source
    package = PACKAGES[engine]
    rewritten, n = _IMPORT.subn(lambda m: f"{m[1]} {package}{m[2]}", source)
    assert n, "the source imports nothing from wfkit"
    return rewritten


def _execute(name: str, source: str, filename: str, namespace: dict[str, Any]) -> ModuleType:
    module = ModuleType(f"example_{next(_count)}_{name}")
    module.__file__ = filename
    module.__dict__.update(namespace)
    # dataclasses look their module up in sys.modules while the class body runs
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    finally:
        sys.modules.pop(module.__name__, None)
    return module


def load_module(path: Path, engine: str) -> ModuleType:
    """The module at ``path`` as ``engine`` would import it."""
    return _execute(path.stem, rewrite_imports(path.read_text(), engine), str(path), {})


def _definitions(cell: str) -> list[ast.stmt]:
    try:
        tree = ast.parse(cell)
    except SyntaxError:  # shell escapes (`!cmd`) and magics: not definitions
        return []
    kept: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "wfkit":
            node.names = [a for a in node.names if a.name not in TOOLS]
            if node.names:
                kept.append(node)
        elif isinstance(
            node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef
        ) or _is_constant_assignment(node):
            kept.append(node)
    return kept


def _is_constant_assignment(node: ast.stmt) -> bool:
    """``name = <literal>`` or a policy (``retry = wf.RetryPolicy(...)``), not runtime
    objects, calls or attribute settings."""
    if not isinstance(node, ast.Assign) or not all(isinstance(t, ast.Name) for t in node.targets):
        return False
    value = node.value
    if isinstance(value, ast.List | ast.Dict | ast.Tuple | ast.Constant | ast.Set):
        return not any(isinstance(n, ast.Call) for n in ast.walk(value))
    return isinstance(value, ast.Call) and ast.unparse(value.func) in {
        "wf.RetryPolicy",
        "timedelta",
    }


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


def notebook_source(path: Path) -> str:
    """The definitions of a notebook's code cells, as one module's text."""
    cells = json.loads(path.read_text())["cells"]
    seen: set[str] = set()
    body: list[ast.stmt] = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in _definitions("".join(cell["source"])):
            names = _bound_names(node)
            if any(n in seen for n in names):
                continue
            seen.update(names)
            body.append(node)
    return ast.unparse(ast.Module(body=body, type_ignores=[]))


def load_notebook(path: Path, engine: str, wfr: Any) -> ModuleType:
    """A notebook's definitions for ``engine``, registering on ``wfr`` as they run."""
    source = rewrite_imports(notebook_source(path), engine)
    return _execute(path.stem, source, str(path), {"wfr": wfr})
