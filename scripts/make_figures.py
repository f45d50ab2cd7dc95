"""Execute every notebook in notebooks/ (keeping its outputs) and write its figures into docs/img, the
README gallery: the same as scripts/build_notebooks.py (kept under its earlier name).

    python scripts/make_figures.py [NAME_PREFIX ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_notebooks import main  # noqa: E402 - the sibling script, not a package

if __name__ == "__main__":
    main(sys.argv[1:])
