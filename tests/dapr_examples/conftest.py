"""Dapr's own workflow examples, run against a checkout named by environment variables:

- ``WFKIT_DAPR_EXAMPLES``: a checkout of Dapr's python-sdk (its ``examples/workflow``);
- ``WFKIT_DAPR_QUICKSTARTS``: a checkout of Dapr's quickstarts (``workflows/python`` and
  ``tutorials/workflow/python``).

Without them the tests skip. The examples' own requirements are the ``dapr-examples``
extra (``pip install -e '.[dapr-examples]'``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

#: Where each checkout keeps its workflow examples' READMEs.
READMES = {
    "WFKIT_DAPR_EXAMPLES": ["examples/workflow/README.md"],
    "WFKIT_DAPR_QUICKSTARTS": [
        "workflows/python/sdk/README.md",
        "tutorials/workflow/python/*/README.md",
    ],
}

HOW = (
    "Dapr's example programs are not in this repository; to run them, point "
    "WFKIT_DAPR_EXAMPLES at a checkout of github.com/dapr/python-sdk and/or "
    "WFKIT_DAPR_QUICKSTARTS at one of github.com/dapr/quickstarts, e.g. "
    "WFKIT_DAPR_EXAMPLES=~/src/python-sdk pytest tests/dapr_examples"
)


def readmes() -> list[Path]:
    found: list[Path] = []
    for variable, patterns in READMES.items():
        root = os.environ.get(variable)
        if root:
            for pattern in patterns:
                found += sorted(Path(root).expanduser().glob(pattern))
    return found
