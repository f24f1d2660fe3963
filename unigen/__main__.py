"""``python -m unigen``: the same as the ``unigen`` command."""

import sys

from unigen.cli import main

sys.exit(main())
