"""An app for ``wfkit serve`` and ``wfkit run`` in the tests: one runtime at module level
with the workflows of :mod:`http_workflows`."""

from http_workflows import build

import wfkit as wf

wfr = wf.WorkflowRuntime()
build(wfr)
