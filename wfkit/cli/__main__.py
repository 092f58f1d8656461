"""``python -m wfkit.cli``."""

import sys

from wfkit.cli._main import main

sys.exit(main())
