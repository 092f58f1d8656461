"""``python -m wfkit.cli``."""

import sys

from ._main import main

sys.exit(main())
