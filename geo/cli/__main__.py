"""``python -m geo.cli``: the ``geo`` command."""

import sys

from geo.cli import main

sys.exit(main())
