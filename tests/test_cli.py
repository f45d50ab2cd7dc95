"""The `lowbit` command line and the README's example."""

import re
import subprocess
import sys
from pathlib import Path

import numerics as nx
from accel.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_default_prints_every_format(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in nx.format_names():
        assert re.search(rf"^{name}\s", out, re.M), name
    row = next(line for line in out.splitlines() if line.startswith("e4m3 "))
    assert row.split()[:5] == ["e4m3", "8", "448", "2^-6", "2^-9"]
    row = next(line for line in out.splitlines() if line.startswith("e8m0 "))
    assert "none" in row and "no zero" in row


def test_formats_subset_and_unknown(capsys):
    assert main(["formats", "e2m1", "e3m4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[2:]] == ["e2m1", "e3m4"]
    assert main(["formats", "e4m3fn"]) == 2
    assert "close matches" in capsys.readouterr().err


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "accel.cli", "formats", "fp16"], capture_output=True, text=True,
                       cwd=ROOT, check=True)
    assert "65504" in r.stdout


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    ns = {}
    for code in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(code, ns)  # noqa: S102 - the README's own examples, in order
    assert list(ns["codes"]) == [0x2A, 0x7E, 0x7E, 0x80]
    assert "[0x2a, 0x7e, 0x7e, 0x80]" in text
    assert ns["bt"].scales.shape == (64, 8) and ns["bt"].bits_per_element == 4.25
