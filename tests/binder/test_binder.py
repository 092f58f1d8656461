"""Binder, proven: build the environment from ``binder/`` alone, as mybinder does (a fresh
virtual environment, ``pip install -r binder/requirements.txt``, then ``binder/postBuild``
from the repository's root), and execute every notebook in a kernel of that environment.

The environment is kept in ``~/.cache/wfkit/binder/<hash of binder/>`` (or
``$WFKIT_BINDER_CACHE``), so it is built once per change of ``binder/``; postBuild runs
every time, so the environment holds the wfkit of this checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"
#: Notebooks Binder cannot run, and why.
NOT_ON_BINDER = {
    "13_real_engine": "needs Dapr's engine, the durabletask-go sidecar built with Go "
    "(make sidecar), which Binder's image has not",
}
NOTEBOOKS = [
    pytest.param(p, id=p.stem, marks=[pytest.mark.skip(NOT_ON_BINDER[p.stem])])
    if p.stem in NOT_ON_BINDER
    else pytest.param(p, id=p.stem)
    for p in sorted((REPO / "notebooks").glob("*.ipynb"))
]
CACHE = Path(os.environ.get("WFKIT_BINDER_CACHE", Path.home() / ".cache" / "wfkit" / "binder"))
BUDGET_SECONDS = 90


def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_binder_installs_the_runtime_and_the_lab_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["lab"]
    assert requirement_lines((BINDER / "requirements.txt").read_text()) == wanted
    python = (BINDER / "runtime.txt").read_text().strip()
    assert python == f"python-{project['requires-python'].removeprefix('>=')}"


def _build() -> Path:
    """The Binder environment for the current ``binder/`` folder (built when missing)."""
    digest = hashlib.sha256()
    for name in ("requirements.txt", "postBuild", "runtime.txt"):
        digest.update((BINDER / name).read_bytes())
    venv = CACHE / digest.hexdigest()[:16]
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(BINDER / "requirements.txt")], check=True)
        (venv / ".complete").touch()
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(["bash", str(BINDER / "postBuild")], cwd=REPO, env=env, check=True)
    return venv


@pytest.fixture(scope="module")
def binder_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec that runs the Binder environment's Python, with its tools on PATH."""
    venv = _build()
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import wfkit; print(wfkit.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path_factory.mktemp("probe"),
    )
    assert Path(found.stdout.strip()).is_relative_to(REPO), found.stdout
    jupyter = tmp_path_factory.mktemp("jupyter")
    spec = jupyter / "kernels" / "wfkit-binder"
    spec.mkdir(parents=True)
    path = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    str(venv / "bin" / "python"),
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "Python (Binder environment)",
                "language": "python",
                "env": {"PATH": path, "PYTHONPATH": "", "VIRTUAL_ENV": str(venv)},
            }
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(jupyter))
        yield "wfkit-binder"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebook_runs_in_the_binder_environment(
    path: Path, binder_kernel: str, tmp_path: Path
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=binder_kernel,
        timeout=BUDGET_SECONDS,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
