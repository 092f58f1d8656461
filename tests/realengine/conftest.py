"""Dapr's real workflow engine (durabletask-go's sidecar), started once per test session.

Built by ``make sidecar`` (``.ci/build-sidecar``, which CI runs); without it the tests
here skip with a message that says how to enable them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wfkit.interop.sidecar import BUILD_HINT, Sidecar, sidecar_path, start_sidecar


@pytest.fixture(scope="session")
def sidecar() -> Iterator[Sidecar]:
    if sidecar_path() is None:
        pytest.skip(f"Dapr's workflow engine is not built: {BUILD_HINT}")
    with start_sidecar() as engine:
        yield engine
