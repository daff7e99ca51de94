"""``python -m kaleido``: the command line (see kaleido._cli)."""

import sys

from ._cli import main

sys.exit(main())
