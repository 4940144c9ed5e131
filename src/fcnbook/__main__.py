"""``python -m fcnbook`` = the ``fcnbook`` command."""

import sys

from fcnbook.cli.main import main

sys.exit(main())
