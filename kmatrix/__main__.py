"""``python -m kmatrix``: the command line (see kmatrix._cli)."""

import sys

from ._jobs.cli import main

sys.exit(main())
