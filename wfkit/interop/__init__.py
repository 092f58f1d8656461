"""Exchange histories with other engines (:mod:`wfkit.interop.dapr`)."""

from wfkit.interop.dapr import (
    export_history,
    from_dapr,
    from_workflow_history,
    to_dapr_dicts,
    to_dapr_json,
    to_protobuf,
)

__all__ = [
    "export_history",
    "from_dapr",
    "from_workflow_history",
    "to_dapr_dicts",
    "to_dapr_json",
    "to_protobuf",
]
