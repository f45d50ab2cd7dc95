"""The notebooks in notebooks/ are the ones scripts/build_notebooks.py generates, they hold their executed
outputs (figures inline, small), and those outputs are not stale: re-executing each notebook gives the
same figures (count, per cell) and the same printed lines (numbers equal to their last printed digit).

A code cell may name what it needs: a `# requires: torch, onnx` line skips the notebook's re-execution where
one of them is missing; a cell whose first line is `# optional: module` prints something else without that
module (a skip line), so there only its running without error is checked."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_BYTES = 1_000_000
# a printed number: sign, digits, optional fraction and exponent
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def generator():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_notebooks
    finally:
        sys.path.pop(0)
    return build_notebooks


def figures(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def printed(cell) -> list[str]:
    """The cell's printed lines (stdout streams; stderr carries warnings that vary by machine)."""
    text = "".join(o["text"] for o in cell.get("outputs", []) if o.get("output_type") == "stream"
                   and o.get("name") == "stdout")
    return text.splitlines()


def same_line(a: str, b: str) -> bool:
    """The text between numbers is identical, integers are equal, and each other number agrees to within one
    unit of its last printed digit (a rounding tie printed either way still matches, a changed result not)."""
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        if re.fullmatch(r"[-+]?\d+", x) and x != y:  # counts, sizes, ids: exact
            return False
        # one unit of the last printed digit, plus 1e-9 relative (a float printed in full may differ in
        # its last bits across CPUs)
        if abs(float(x) - float(y)) > max(last_digit(x), last_digit(y)) + 1e-9 * max(abs(float(x)), abs(float(y))):
            return False
    return True


def required(nb) -> list[str]:
    """The modules named on `# requires:` lines of the notebook's code cells."""
    return [m.strip() for c in nb.cells if c.cell_type == "code"
            for line in re.findall(r"^# requires:(.*)$", c.source, re.M) for m in line.split(",") if m.strip()]


def optional_missing(cell) -> bool:
    """The cell starts with `# optional: module` and that module is not installed here."""
    m = re.match(r"# optional: (\S+)", cell.source)
    return m is not None and importlib.util.find_spec(m.group(1)) is None


def last_digit(tok: str) -> float:
    mant, _, exp = tok.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (int(exp or 0) - decimals)


@pytest.mark.parametrize(("a", "b", "same"), [
    ("err 0.0123 at K=128", "err 0.0124 at K=128", True),
    ("err 0.0123 at K=128", "err 0.0126 at K=128", False),
    ("1.25e-03 us", "1.26e-03 us", True),
    ("1.25e-03 us", "1.25e-02 us", False),
    ("top-1 0.98", "top1 0.98", False),
    ("80 design points", "81 design points", False),
    ("[1, 2]", "[1, 2, 3]", False),
    ("0.012379469440786843", "0.012379469440786845", True),
])
def test_line_comparison(a, b, same):
    assert same_line(a, b) is same


def test_notebooks_match_their_generator():
    nbformat = pytest.importorskip("nbformat")
    gen = generator()
    assert {p.stem for p in NOTEBOOKS} == set(gen.NOTEBOOKS)
    for p in NOTEBOOKS:
        spec = gen.NOTEBOOKS[p.stem]
        cells = nbformat.read(p, as_version=4).cells
        assert [c.source for c in cells] == spec.sources(), f"{p.name}: run python scripts/build_notebooks.py"
        assert cells[0].source.startswith("# ") and "**Question:**" in cells[0].source, p.name
        assert cells[-1].cell_type == "markdown" and cells[-1].source.startswith("**Answer.**"), p.name
        assert "not written yet" not in cells[-1].source, p.name
        assert p.stat().st_size < MAX_BYTES, f"{p.name} is {p.stat().st_size} bytes"
        code = [c for c in cells if c.cell_type == "code"]
        # executed and committed with outputs: every code cell ran, every save(...) left a figure inline
        assert all(c.execution_count is not None for c in code), f"{p.name}: commit it executed"
        saves = sum(len(re.findall(r"^save\(fig, ", c.source, re.M)) for c in code)
        assert sum(figures(c) for c in code) == saves, p.name
        assert not [o for c in code for o in c.outputs if o.get("output_type") == "error"], p.name
        assert "matplotlib.use(" not in "".join(c.source for c in code), p.name  # would hide the figures


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_outputs_are_current(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    gen = generator()
    committed = nbformat.read(path, as_version=4)
    for module in required(committed):
        pytest.importorskip(module)
    fresh = gen.execute(path, fig_dir=tmp_path, cwd=tmp_path)
    saved = [m for c in committed.cells if c.cell_type == "code" for m in re.findall(r'save\(fig, "([^"]+)"', c.source)]
    for name in saved:
        assert (tmp_path / name).stat().st_size > 5000, name
    for i, (old, new) in enumerate(zip(committed.cells, fresh.cells)):
        if old.cell_type != "code":
            continue
        assert not [o for o in new.outputs if o.get("output_type") == "error"], f"{path.name} cell {i} raised"
        if optional_missing(old):
            continue
        assert figures(new) == figures(old), f"{path.name} cell {i}: figure count changed; rebuild the notebook"
        a, b = printed(old), printed(new)
        assert len(a) == len(b) and all(same_line(x, y) for x, y in zip(a, b)), (
            f"{path.name} cell {i}: printed output differs from the committed one (python scripts/build_notebooks.py "
            f"{path.stem[:2]}):\n" + "\n".join(f"- {x}\n+ {y}" for x, y in zip(a, b) if not same_line(x, y)))
