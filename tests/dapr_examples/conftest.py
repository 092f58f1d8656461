"""Puts this folder's modules on the path (the harness: _sources, _steps, _run, _tour);
what the tests run and how to point them at a checkout is in _sources.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
