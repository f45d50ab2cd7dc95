"""`python -m accel`: the `lowbit` command line (accel.cli)."""
import sys

from .cli import main

sys.exit(main())
