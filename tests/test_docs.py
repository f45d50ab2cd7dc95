"""Every fenced Python and shell block in README.md and docs/*.md runs as written.

Blocks run in a temporary folder laid out like a checkout (its top-level entries link to the
repository's, so `python benchmarks/x.py` works as from the root, and whatever a block writes lands in
the temporary folder). The Python blocks of one page run in order in one namespace, each statement the
way the interactive interpreter runs it (an expression's value is printed, so the output shows what
the comments claim); each shell block runs in `bash -e` on its own. Pages are discovered by glob, so a
new page is tested without editing this file.

An HTML comment on the line(s) just before a block steers it:

    <!-- docs-test: skip (installs) -->   never run here (a reason in parentheses is required)
    <!-- docs-test: needs torch -->       skipped when `import torch` fails (several: needs a b)
    <!-- docs-test: slow -->             marked slow (benchmarks; runs in the full suite only)

A shell block that runs a benchmark script or a nested pytest is slow without being marked.
"""

import ast
import contextlib
import importlib.util
import io
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
PYTHON = {"python", "py", "python3"}
SHELL = {"bash", "sh", "shell", "console"}
DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
# a shell block that runs these is slow by nature (a benchmark, a nested test run)
SLOW_SHELL = re.compile(r"\bbenchmarks/|\bpytest\b")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None = None
    needs: list[str] = field(default_factory=list)
    slow: bool = False

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def parse_directives(block: Block, text: str) -> None:
    for d in DIRECTIVE.findall(text):
        if d.startswith("skip"):
            m = re.fullmatch(r"skip\s*\((.+)\)", d)
            if not m:
                raise ValueError(f"{block.where}: 'docs-test: skip' needs a reason in parentheses, got {d!r}")
            block.skip = m.group(1)
        elif d.startswith("needs"):
            block.needs += d.split()[1:]
        elif d == "slow":
            block.slow = True
        else:
            raise ValueError(f"{block.where}: unknown docs-test directive {d!r}; valid: skip (reason), needs MODULE, "
                             "slow")


def extract(page: Path) -> list[Block]:
    """The fenced blocks of one page in order; indented fences (inside lists) count too."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^(\s*)```\s*([\w+-]*)\s*$", lines[i])
        if not m or not m.group(2):
            i += 1
            continue
        indent, lang, start = m.group(1), m.group(2).lower(), i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:j]]
        block = Block(page, start + 1, lang, "\n".join(body) + "\n")
        # directives: the contiguous non-blank lines just above the fence (blank lines between allowed)
        k, above = start - 1, []
        while k >= 0 and (not lines[k].strip() or DIRECTIVE.search(lines[k])):
            above.append(lines[k])
            k -= 1
        parse_directives(block, "\n".join(above))
        if block.lang == "console":  # only the prompted lines are commands
            block.code = "\n".join(ln[2:] for ln in body if ln.startswith("$ ")) + "\n"
        blocks.append(block)
        i = j + 1
    return blocks


def missing(block: Block) -> list[str]:
    return [m for m in block.needs if importlib.util.find_spec(m) is None]


def checkout_like(tmp: Path) -> Path:
    for entry in ROOT.iterdir():
        if entry.name not in (".git",) and not (tmp / entry.name).exists():
            (tmp / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return tmp


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([e["PYTHONPATH"]] if e.get("PYTHONPATH") else []))
    e["MPLBACKEND"] = "Agg"
    return e


def run_python(blocks: list[Block]) -> str:
    """Run the blocks in order in one namespace, statement by statement as the REPL does; return stdout."""
    ns: dict = {"__name__": "__docs__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for b in blocks:
            tree = ast.parse(b.code, filename=b.where)
            for stmt in tree.body:
                mode = "single" if isinstance(stmt, ast.Expr) else "exec"
                node = ast.Interactive([stmt]) if mode == "single" else ast.Module([stmt], type_ignores=[])
                code = compile(node, f"{b.page.name} (block at line {b.line})", mode)
                try:
                    exec(code, ns)  # noqa: S102 - running the documentation is the point
                except Exception as exc:
                    raise AssertionError(f"{b.where}: statement at block line {stmt.lineno} raised "
                                         f"{type(exc).__name__}: {exc}\n--- output so far ---\n{out.getvalue()}") \
                        from exc
    return out.getvalue()


def python_cases():
    for page in PAGES:
        blocks = [b for b in extract(page) if b.lang in PYTHON]
        if not blocks:
            continue
        marks = [pytest.mark.slow] if any(b.slow for b in blocks) else []
        yield pytest.param(page, id=str(page.relative_to(ROOT)), marks=marks)


def shell_cases():
    for page in PAGES:
        for b in extract(page):
            if b.lang in SHELL:
                marks = [pytest.mark.slow] if b.slow or SLOW_SHELL.search(b.code) else []
                yield pytest.param(b, id=b.where, marks=marks)


@pytest.mark.parametrize("page", list(python_cases()))
def test_python_blocks_run(page, tmp_path, monkeypatch):
    blocks = [b for b in extract(page) if b.lang in PYTHON]
    # a skipped block is left out; the page's later blocks must not depend on it
    run = [b for b in blocks if not b.skip and not missing(b)]
    if not run:
        pytest.skip("; ".join(sorted({b.skip or f"needs {', '.join(missing(b))}" for b in blocks})))
    monkeypatch.chdir(checkout_like(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    print(run_python(run))  # shown by pytest -rP: the values the comments describe


@pytest.mark.parametrize("block", list(shell_cases()))
def test_shell_block_runs(block, tmp_path):
    if block.skip:
        pytest.skip(block.skip)
    if missing(block):
        pytest.skip(f"needs {', '.join(missing(block))}")
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=checkout_like(tmp_path), env=env(),
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"{block.where} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    print(proc.stdout)


def test_every_page_with_code_is_collected():
    # the directives parse (a typo fails here, not silently), and the README's set-up blocks are marked
    readme = extract(ROOT / "README.md")
    installs = [b for b in readme if b.lang in SHELL and "pip install" in b.code]
    assert installs and all(b.skip for b in installs), [b.where for b in installs]
