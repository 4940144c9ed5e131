"""``python -m fcnbook`` = the ``fcnbook`` command."""

import sys

from .cli import main

sys.exit(main())
