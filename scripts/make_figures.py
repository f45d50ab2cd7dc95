"""Execute every notebook in notebooks/ and write its figures into docs/img (the README gallery).

    python scripts/make_figures.py
"""

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, fig_dir: Path, timeout: int = 600) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    os.environ["LOWBIT_FIG_DIR"] = str(fig_dir)
    meta = {"metadata": {"path": str(path.parent)}}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=meta)
    client.execute()
    return nb


if __name__ == "__main__":
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    for nbp in sorted((ROOT / "notebooks").glob("*.ipynb")):
        t = time.time()
        run(nbp, out)
        print(f"{nbp.name}: {time.time() - t:.1f} s")
