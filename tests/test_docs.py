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
    <!-- docs-test: slow -->             marked slow (runs in the full suite only; a page's other Python
                                         blocks also run without it in the quick tier)

A shell block that runs a benchmark script or a nested pytest is slow without being marked.

A ```toml block must parse, and the custom parts it shows must read (test_toml_block_is_valid).

What a block prints is checked where the page claims it (docs/testing.md, "Output the docs claim"):

- a Python comment with `=>` claims the output of the statement it sits on (text before `=>` is a note):
  `bt.bits_per_element  # => 4.25`; on an assignment `y = f(x)  # => ...` it claims `repr(y)`; full-line
  `# => ...` comments after a statement claim further lines of that statement's output;
- an ```output fence right after a code block (blank lines between only) claims that block's whole stdout.

A claim matches when it equals the output with whitespace runs collapsed (and none kept beside brackets and
commas); `...` stands for any text (as doctest's ELLIPSIS); `A..B` is any number from A to B inclusive, for
the values a page states as a range with the machine it came from. A value-like comment without `=>` on a
statement that prints or assigns a name (`x  # 4.25`) is refused, so a claim cannot stay unchecked.
"""

import ast
import contextlib
import importlib.util
import io
import os
import re
import subprocess
import tokenize
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
OUTPUT = {"output"}
CLAIM = re.compile(r"#(?P<note>.*?)=>\s?(?P<claim>.*?)\s*$")
# a comment that states a value without `=>`: a decimal number or one that ends the comment or is followed by
# punctuation ("2 ops per MAC" is prose), a container, an array, a bool/None or a string; at the start of the
# comment or after a "note:" prefix
VALUE_LIKE = re.compile(r"#\s*(?:[^:#]*:\s*)?"
                        r"(?:[-+~\u2248]?(?:\d*\.\d|\d+(?:[eE][-+]?\d|\s*(?:$|[(,;:])))"  # 4.25, 3e12, "3 (...)"
                        r"|[\[{]|\(\s*[-\d]|array\(|(?:True|False|None)(?=\s*(?:$|[,;()]))|['\"])")
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
RANGE = re.compile(rf"({NUMBER})\.\.({NUMBER})(?!\d)")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None = None
    needs: list[str] = field(default_factory=list)
    slow: bool = False
    expect: "Block | None" = None  # the ```output block that follows, if any
    end: int = 0  # 0-based index of the line after the closing fence

    @property
    def where(self) -> str:
        return f"{rel(self.page)}:{self.line}"


def rel(page: Path) -> str:
    """A page's path for messages: relative to the repository when it is in it."""
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


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
        if block.lang in OUTPUT:
            prev = blocks[-1] if blocks else None
            between = lines[prev.end:start] if prev else []
            if prev is None or prev.lang in OUTPUT or any(ln.strip() for ln in between):
                raise ValueError(f"{block.where}: an ```output block must follow a code block (blank lines between "
                                 "only): it claims that block's output")
            prev.expect = block
        block.end = j + 1
        blocks.append(block)
        i = j + 1
    return blocks


# -- claims: what a block prints, as the page states it -----------------------------------------------
def normalise(text: str) -> str:
    """Whitespace runs as one space, none beside brackets and commas, none at the ends."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ?([\[\](){},]) ?", r"\1", text)


def matches(claim: str, output: str) -> bool:
    """Whether `output` is what `claim` states: equal after `normalise`, `...` any text, `A..B` a number in
    [A, B]."""
    claim, output = re.sub(r" ?\.\.\. ?", "...", normalise(claim)), normalise(output)  # `...` takes its spaces
    pattern, ranges, pos = [], [], 0
    for m in re.finditer(rf"\.\.\.|{RANGE.pattern}", claim):
        pattern.append(re.escape(claim[pos:m.start()]))
        if m.group(0) == "...":
            pattern.append(".*?")
        else:
            pattern.append(f"({NUMBER})")
            ranges.append((float(m.group(1)), float(m.group(2))))
        pos = m.end()
    pattern.append(re.escape(claim[pos:]))
    found = re.fullmatch("".join(pattern), output, flags=re.DOTALL)
    return bool(found) and all(lo <= float(v) <= hi for v, (lo, hi) in zip(found.groups(), ranges, strict=True))


def check(claim: str, output: str, where: str) -> None:
    if not matches(claim, output):
        raise AssertionError(f"{where}: the page claims\n    {claim.strip()}\nbut the code printed\n    "
                             f"{output.strip()}\n(compared with whitespace collapsed: docs/testing.md)")


@dataclass
class Claim:
    line: int  # 1-based line in the block
    text: str
    inline: bool  # on a line with code (else a comment line of its own)


def comments(block: Block) -> list[tokenize.TokenInfo]:
    return [t for t in tokenize.generate_tokens(io.StringIO(block.code).readline) if t.type == tokenize.COMMENT]


def claims_by_statement(block: Block, tree: ast.Module) -> dict[int, list[Claim]]:
    """{index of a top-level statement: its claims}. An inline claim belongs to the statement whose lines
    hold it, a claim on a line of its own to the last statement that ends above it. A value-like comment
    without `=>` on a statement that prints or assigns one name is an error (a claim nobody checks)."""
    code_lines = block.code.splitlines()
    out: dict[int, list[Claim]] = {}
    for tok in comments(block):
        line = tok.start[0]
        inline = bool(code_lines[line - 1][:tok.start[1]].strip())
        m = CLAIM.match(tok.string)
        idx = next((i for i, s in enumerate(tree.body) if s.lineno <= line <= s.end_lineno), None)
        if m is None:
            stmt = tree.body[idx] if idx is not None else None
            shows = stmt is not None and stmt.end_lineno == line and (isinstance(stmt, ast.Expr) or (
                isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)))
            if inline and shows and VALUE_LIKE.match(tok.string):
                raise AssertionError(f"{rel(block.page)}:{block.line + line}: the comment {tok.string!r} "
                                     "states a value without `=>`, so nothing checks it; write it as "
                                     "`# => <the exact output>` or reword it (docs/testing.md)")
            continue
        if idx is None and not inline:
            idx = max((i for i, s in enumerate(tree.body) if s.end_lineno < line), default=None)
        if idx is None:
            raise AssertionError(f"{rel(block.page)}:{block.line + line}: a `=>` claim with no "
                                 "statement before it")
        out.setdefault(idx, []).append(Claim(line, m.group("claim"), inline))
    return out


def claimed_value(stmt: ast.stmt, ns: dict, printed: str, where: str) -> str:
    """What a statement's claims are about: repr of the assigned name for an assignment, else its output."""
    if isinstance(stmt, ast.Assign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise AssertionError(f"{where}: a `=>` claim on an assignment needs one plain name on the left")
        return repr(ns[targets[0].id])
    return printed


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
    e["LOWBIT_BENCH_SMOKE"] = "1"  # benchmark commands run once on small inputs (benchmarks/_timing.py)
    return e


def run_python(blocks: list[Block]) -> str:
    """Run the blocks in order in one namespace, statement by statement as the REPL does, checking every
    claim (`=>` comments, ```output blocks) against what was printed; return stdout."""
    ns: dict = {"__name__": "__docs__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for b in blocks:
            tree = ast.parse(b.code, filename=b.where)
            claims = claims_by_statement(b, tree)
            block_start = out.tell()
            for idx, stmt in enumerate(tree.body):
                mode = "single" if isinstance(stmt, ast.Expr) else "exec"
                node = ast.Interactive([stmt]) if mode == "single" else ast.Module([stmt], type_ignores=[])
                code = compile(node, f"{b.page.name} (block at line {b.line})", mode)
                start = out.tell()
                try:
                    exec(code, ns)  # noqa: S102 - running the documentation is the point
                except Exception as exc:
                    raise AssertionError(f"{b.where}: statement at block line {stmt.lineno} raised "
                                         f"{type(exc).__name__}: {exc}\n--- output so far ---\n{out.getvalue()}") \
                        from exc
                if idx in claims:
                    where = f"{rel(b.page)}:{b.line + claims[idx][0].line}"
                    value = claimed_value(stmt, ns, out.getvalue()[start:], where)
                    check("\n".join(c.text for c in claims[idx]), value, where)
            if b.expect is not None:
                check(b.expect.code, out.getvalue()[block_start:], b.expect.where)
    return out.getvalue()


def python_cases():
    for page in PAGES:
        blocks = [b for b in extract(page) if b.lang in PYTHON]
        if not blocks:
            continue
        page_id = str(page.relative_to(ROOT))
        if any(b.slow for b in blocks):
            # the quick tier runs the page without its slow blocks (later blocks must not depend on them),
            # the full suite runs every block
            if not all(b.slow for b in blocks):
                yield pytest.param(page, False, id=f"{page_id}:quick")
            yield pytest.param(page, True, id=page_id, marks=[pytest.mark.slow])
        else:
            yield pytest.param(page, True, id=page_id)


def shell_cases():
    for page in PAGES:
        for b in extract(page):
            if b.lang in SHELL:
                marks = [pytest.mark.slow] if b.slow or SLOW_SHELL.search(b.code) else []
                yield pytest.param(b, id=b.where, marks=marks)


@pytest.mark.parametrize("page, with_slow", list(python_cases()))
def test_python_blocks_run(page, with_slow, tmp_path, monkeypatch):
    blocks = [b for b in extract(page) if b.lang in PYTHON and (with_slow or not b.slow)]
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
    if block.expect is not None:
        check(block.expect.code, proc.stdout, block.expect.where)


def test_every_page_with_code_is_collected():
    # the directives parse (a typo fails here, not silently), and the README's set-up blocks are marked
    readme = extract(ROOT / "README.md")
    installs = [b for b in readme if b.lang in SHELL and "pip install" in b.code]
    assert installs and all(b.skip for b in installs), [b.where for b in installs]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_claims_are_well_formed(page):
    """Every page's claims parse, skipped blocks included: no value-like comment without `=>`, no `=>` in a
    shell block (its output is claimed by an ```output block), no ```output block after nothing."""
    for b in extract(page):
        if b.lang in PYTHON:
            claims_by_statement(b, ast.parse(b.code, filename=b.where))
        elif b.lang in SHELL:
            bad = [t.string for t in comments_sh(b) if "=>" in t]
            assert not bad, f"{b.where}: a shell block's output is claimed by an ```output block after it, not {bad}"


def comments_sh(block: Block) -> list[str]:
    return [ln.split(" #", 1)[1] for ln in block.code.splitlines() if " #" in ln] + \
        [ln for ln in block.code.splitlines() if ln.lstrip().startswith("#")]


def toml_cases():
    for page in PAGES:
        for b in extract(page):
            if b.lang == "toml":
                yield pytest.param(b, id=b.where)


@pytest.mark.parametrize("block", list(toml_cases()))
def test_toml_block_is_valid(block):
    """A TOML block is not run, but it must parse, and the custom parts it shows must read as written (the
    readers check every key); a block with [design] must load as a design."""
    import tomllib

    from accel import parts
    doc = tomllib.loads(block.code)
    readers = {"formats": parts.format_from_table, "block_formats": parts.block_format_from_table,
               "accumulators": parts.accumulator_from_table}
    assert set(readers) == set(parts.PART_KEYS)
    if "design" in doc:
        import accel
        accel.Design.from_toml(block.code, source=block.where)
        return
    assert set(doc) <= set(readers), f"{block.where}: a TOML fragment shows only custom parts, got {sorted(doc)}"
    for key, tables in doc.items():
        for t in tables:
            readers[key](t, f"{block.where}: [[{key}]]")


# -- the claim checker itself: each rule can fail ------------------------------------------------------
@pytest.mark.parametrize("claim, output, ok", [
    ("4.25", "4.25\n", True),
    ("4.25", "4.5\n", False),
    ("4.2", "4.25\n", False),  # exact: no rounding unless a range is given
    ("array([0.3125, 448., -0.])", "array([ 0.3125, 448.    ,  -0.    ])\n", True),
    ("[1 2]", "[12]", False),  # whitespace collapses but still separates
    ("(64, 8) 4.25", "((64, 8), 4.25)", False),
    ("['exact', 'fp32', ...]", "['exact', 'fp32', 'fp16', 'quire']", True),
    ("['exact', 'fp16', ...]", "['exact', 'fp32', 'fp16']", False),
    ("took 6..22 s", "took 13.4 s", True),
    ("took 6..22 s", "took 22.5 s", False),
    ("took 6..22 s", "took -7 s", False),
    ("a\nb ... s", "a b 1 2 3 s", True),
])
def test_matches(claim, output, ok):
    assert matches(claim, output) is ok


def _page(tmp_path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


@pytest.mark.parametrize("text, error", [
    ("```python\nx = 2\nx + 1  # => 3\n```\n", None),
    ("```python\nx = 2\nx + 1  # => 4\n```\n", "claims\n    4\nbut the code printed\n    3"),
    ("```python\nx = 2\nx + 1  # 4\n```\n", "states a value without `=>`"),
    ("```python\nx = [2, 3]  # two: [2, 3]\n```\n", "states a value without `=>`"),
    ("```python\nx = 2\nx + 1  # the sum, 4\n```\n", None),  # prose: not a claim
    ("```python\nx = 2\nx + 1  # 2 ops per MAC\n```\n", None),
    ("```python\nx = 2\nx + 1  # 3 (two plus one)\n```\n", "states a value"),
    ("```python\nx = 2\nx + 1  # 3.0 exactly\n```\n", "states a value"),
    ("```python\ny = [2] * 2  # list => [2, 2]\n```\n", None),
    ("```python\ny = [2] * 3  # => [2, 2]\n```\n", "claims"),
    ("```python\nfor i in range(2):\n    print(i)\n# => 0\n# => 1\n```\n", None),
    ("```python\nfor i in range(2):\n    print(i)\n# => 0\n# => 2\n```\n", "claims"),
    ("```python\nprint('a')\nprint(7)\n```\n\n```output\na\n7\n```\n", None),
    ("```python\nprint('a')\nprint(7)\n```\n\n```output\na\n8\n```\n", "claims"),
])
def test_claims_are_checked(tmp_path, text, error):
    run = [b for b in extract(_page(tmp_path, text)) if b.lang in PYTHON]
    if error is None:
        run_python(run)
    else:
        with pytest.raises(AssertionError, match=re.escape(error)):
            run_python(run)


def test_an_output_block_must_follow_code(tmp_path):
    with pytest.raises(ValueError, match="must follow a code block"):
        extract(_page(tmp_path, "Text.\n\n```output\n3\n```\n"))


@pytest.mark.parametrize("claim, ok", [("12..13 mJ", True), ("12.6..13 mJ", False)])
def test_a_shell_output_block_is_checked(tmp_path, claim, ok):
    (block, _) = extract(_page(tmp_path, f"```bash\necho 12.5 mJ\n```\n```output\n{claim}\n```\n"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    if ok:
        test_shell_block_runs(block, run_dir)
    else:
        with pytest.raises(AssertionError, match="the page claims"):
            test_shell_block_runs(block, run_dir)


def test_a_toml_block_with_a_misspelt_key_fails(tmp_path):
    (block,) = extract(_page(tmp_path, '```toml\n[[block_formats]]\nname = "x"\nelement = "e2m1"\nscale = "e8m0"\n'
                                       'blok_size = 16\n```\n'))
    with pytest.raises(ValueError, match="did you mean 'block_size'"):
        test_toml_block_is_valid(block)
