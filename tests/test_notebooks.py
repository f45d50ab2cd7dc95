"""Every notebook in notebooks/ runs top to bottom and writes its figures; the committed notebooks are
the ones scripts/build_notebooks.py generates."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FIGURES = {"01_format_tour": ["format_grids.png", "format_errors.png"], "02_block_scaling": ["block_pareto.png"],
           "03_tensor_core_accumulation": ["fp8_accumulation.png"], "04_design_sweep": ["design_sweep.png"],
           "05_analog_drift": ["analog_drift.png"], "06_weight_compression": ["compression_rd.png"],
           "07_llm_inference": ["llm_layer_breakdown.png", "llm_tensor_parallel.png"]}


def test_notebooks_match_their_generator():
    nbformat = pytest.importorskip("nbformat")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_notebooks
    finally:
        sys.path.pop(0)
    assert {p.stem for p in NOTEBOOKS} == set(build_notebooks.NOTEBOOKS) == set(FIGURES)
    for p in NOTEBOOKS:
        cells = nbformat.read(p, as_version=4).cells
        assert [c.source for c in cells] == build_notebooks.NOTEBOOKS[p.stem], p.name
        assert all(not c.get("outputs") for c in cells if c.cell_type == "code"), f"{p.name} has committed outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("LOWBIT_FIG_DIR", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    for fig in FIGURES[path.stem]:
        assert (tmp_path / fig).stat().st_size > 5000, fig
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors and os.environ["LOWBIT_FIG_DIR"] == str(tmp_path)
