"""``python -m kmatrix``: the command line (see kmatrix._cli)."""

import sys

from ._cli import main

sys.exit(main())
