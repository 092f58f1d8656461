"""Every notebook in notebooks/ runs top to bottom in a clean kernel (the assertions in
its cells are the checks), within its time budget, and is stored without outputs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from wfkit.interop.sidecar import BUILD_HINT, sidecar_path

pytestmark = pytest.mark.notebook

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))
BUDGET_SECONDS = 60


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "kernelspec missing"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}: a cell has stored outputs; clear them before committing"
            )


def skip_unless_available(nb: Any, path: Path) -> None:
    """A notebook that runs Dapr's engine (``metadata.wfkit.needs``) skips, saying how to
    enable it, where the engine is not built."""
    needs = nb.metadata.get("wfkit", {}).get("needs", [])
    binary = sidecar_path()
    if "sidecar" in needs and (binary is None or not binary.exists()):
        pytest.skip(f"{path.name} runs Dapr's workflow engine, not built here: {BUILD_HINT}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, kernel_name: str, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    skip_unless_available(nb, path)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=BUDGET_SECONDS,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
    assert elapsed < BUDGET_SECONDS, f"{path.name} took {elapsed:.0f} s"
