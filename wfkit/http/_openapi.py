"""The OpenAPI 3 description of the HTTP API that ``wfr.serve_http()`` serves.

Built in code, per server: the registered workflow names are the examples of
``{workflowName}``, and the token schemes appear only when the server has a token.
"""

from __future__ import annotations

from typing import Any

#: Prefixes of Dapr's workflow API; the first is current, the others are accepted too.
API_VERSIONS = ("v1.0", "v1.0-beta1", "v1.0-alpha1")
#: The ones the description lists (alpha1 is accepted but left out, as Dapr dropped it).
DOCUMENTED_VERSIONS = ("v1.0", "v1.0-beta1")
#: What a new instance id may be made of (Dapr's rule).
INSTANCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,256}$"
#: Longest ``?wait=`` a status poll may ask for, in seconds.
MAX_WAIT_SECONDS = 30.0

#: Runtime statuses (WorkflowStatus names).
STATUSES = [
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "TERMINATED",
    "PENDING",
    "SUSPENDED",
    "STALLED",
    "UNKNOWN",
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed request (bad JSON, bad instance id, bad parameter)",
        401: "Missing or wrong API token",
        403: "Refused: a Host header that does not name this server, or a request from a "
        "web page of another origin (including CORS preflights)",
        404: "No such workflow, instance or path",
        405: "Method not allowed on this path",
        408: "The request body did not arrive in time",
        409: "The instance's status does not allow the operation",
        411: "A body without Content-Length",
        413: "Body or payload over the runtime's payload limit",
        415: "A body from a browser that is not Content-Type: application/json",
        503: "The runtime is not started",
    }
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def _no_content(description: str) -> dict[str, Any]:
    return {"description": description}


def _any_json_body(description: str) -> dict[str, Any]:
    return {
        "required": False,
        "description": description,
        "content": {"application/json": {"schema": {}}},
    }


def _path(name: str, description: str, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    schema.update(extra)
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


INSTANCE = _path("instanceID", "The workflow instance id")
RECURSIVE = {
    "name": "non_recursive",
    "in": "query",
    "required": False,
    "description": "true: leave the instance's child workflows alone",
    "schema": {"type": "boolean"},
}
COMMON = (401, 403, 405, 408, 411, 413, 415)


INSTANCE_ID_QUERY = {
    "name": "instanceID",
    "in": "query",
    "required": False,
    "description": "Id of the new instance (default: a random uuid)",
    "schema": {"type": "string", "pattern": INSTANCE_ID_PATTERN},
}
WAIT_QUERY = {
    "name": "wait",
    "in": "query",
    "required": False,
    "description": (
        "Seconds (wall time) to wait for the instance to finish before "
        "answering, as a waiter on it: with a virtual clock and auto-skip, "
        "timers are fast-forwarded meanwhile. Default: the server's "
        "poll_wait (0: read at once, time never moves)."
    ),
    "schema": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS},
}
# The commands on an instance: verb, operation id, summary, what a 202 means, whether it
# takes non_recursive, and the request body's description (None: no body).
COMMAND_ROUTES = (
    (
        "terminate",
        "terminateWorkflow",
        "Terminate a running instance (and its child workflows)",
        "Terminated",
        True,
        "Optional output recorded for the instance",
    ),
    ("pause", "pauseWorkflow", "Suspend a running instance", "Suspended", False, None),
    ("resume", "resumeWorkflow", "Resume a suspended instance", "Resumed", False, None),
    (
        "purge",
        "purgeWorkflow",
        "Delete a finished instance and its history",
        "Purged",
        True,
        None,
    ),
)


def _dapr_paths(version: str, suffix: str, workflows: list[str]) -> dict[str, Any]:
    base = f"/{version}/workflows/dapr"
    deprecated = version != DOCUMENTED_VERSIONS[0]
    name = _path("workflowName", "A registered workflow name")
    if workflows:
        name["examples"] = {w: {"value": w} for w in workflows[:10]}

    def op(op_id: str, summary: str, **body: Any) -> dict[str, Any]:
        out = {"operationId": op_id + suffix, "summary": summary, "tags": ["dapr"], **body}
        if deprecated:
            out["deprecated"] = True
        return out

    command_errors = _errors(400, 404, 409, *COMMON)
    paths = {
        f"{base}/{{workflowName}}/start": {
            "post": op(
                "startWorkflow",
                "Start a workflow instance; the body (JSON) is its input",
                parameters=[name, INSTANCE_ID_QUERY],
                requestBody=_any_json_body("The workflow's input"),
                responses={"202": _json(_ref("StartResponse"), "Started"), **command_errors},
            )
        },
        f"{base}/{{instanceID}}": {
            "get": op(
                "getWorkflow",
                "An instance's status, input, output, custom status and failure",
                parameters=[INSTANCE, WAIT_QUERY],
                responses={
                    "200": _json(_ref("WorkflowState"), "The instance"),
                    **_errors(400, 404, *COMMON),
                },
            )
        },
        f"{base}/{{instanceID}}/raiseEvent/{{eventName}}": {
            "post": op(
                "raiseEventWorkflow",
                "Send an event to an instance; the body (JSON) is its data",
                parameters=[INSTANCE, _path("eventName", "The event name (case-insensitive)")],
                requestBody=_any_json_body("The event's data"),
                responses={"202": _no_content("Delivered"), **command_errors},
            )
        },
    }
    for verb, op_id, summary, done, recursive, body in COMMAND_ROUTES:
        extra = {} if body is None else {"requestBody": _any_json_body(body)}
        paths[f"{base}/{{instanceID}}/{verb}"] = {
            "post": op(
                op_id,
                summary,
                parameters=[INSTANCE, RECURSIVE] if recursive else [INSTANCE],
                **extra,
                responses={"202": _no_content(done), **command_errors},
            )
        }
    return paths


NAME_QUERY = {
    "name": "name",
    "in": "query",
    "required": False,
    "description": "Only instances of this workflow",
    "schema": {"type": "string"},
}
STATUS_QUERY = {
    "name": "status",
    "in": "query",
    "required": False,
    "description": "Only instances with this runtime status",
    "schema": {"type": "string", "enum": STATUSES},
}


def _wfkit_paths() -> dict[str, Any]:
    return {
        "/wfkit/v1/info": {
            "get": {
                "operationId": "wfkitInfo",
                "summary": "The runtime: registered workflows and activities, clock",
                "tags": ["wfkit"],
                "responses": {"200": _json(_ref("Info"), "The runtime"), **_errors(*COMMON)},
            }
        },
        "/wfkit/v1/instances": {
            "get": {
                "operationId": "wfkitListInstances",
                "summary": "Every instance, oldest first, optionally filtered",
                "tags": ["wfkit"],
                "parameters": [NAME_QUERY, STATUS_QUERY],
                "responses": {
                    "200": _json(_ref("InstanceList"), "The instances"),
                    **_errors(400, *COMMON),
                },
            }
        },
        "/wfkit/v1/instances/{instanceID}/history": {
            "get": {
                "operationId": "wfkitHistory",
                "summary": "An instance's history events, oldest first",
                "tags": ["wfkit"],
                "parameters": [INSTANCE],
                "responses": {
                    "200": _json(_ref("History"), "The history"),
                    **_errors(400, 404, *COMMON),
                },
            }
        },
        "/wfkit/v1/instances/{instanceID}/rerun": {
            "post": {
                "operationId": "wfkitRerun",
                "summary": "Start a new instance from a finished one's history, from a "
                "scheduling event on (Dapr's rerun-from-event)",
                "tags": ["wfkit"],
                "parameters": [INSTANCE],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("RerunRequest")}},
                },
                "responses": {
                    "202": _json(_ref("StartResponse"), "Started"),
                    **_errors(400, 404, 409, *COMMON),
                },
            }
        },
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["errorCode", "message"],
        "properties": {"errorCode": {"type": "string"}, "message": {"type": "string"}},
    },
    "StartResponse": {
        "type": "object",
        "required": ["instanceID"],
        "properties": {"instanceID": {"type": "string"}},
    },
    "WorkflowState": {
        "type": "object",
        "required": [
            "instanceID",
            "workflowName",
            "createdAt",
            "lastUpdatedAt",
            "runtimeStatus",
            "properties",
        ],
        "properties": {
            "instanceID": {"type": "string"},
            "workflowName": {"type": "string"},
            "createdAt": {"type": "string", "format": "date-time"},
            "lastUpdatedAt": {"type": "string", "format": "date-time"},
            "runtimeStatus": {"type": "string", "enum": STATUSES},
            "properties": {
                "type": "object",
                "description": "dapr.workflow.input, dapr.workflow.output, "
                "dapr.workflow.custom_status, dapr.workflow.failure.error_type, "
                "dapr.workflow.failure.error_message (JSON texts and strings)",
                "additionalProperties": {"type": "string"},
            },
        },
    },
    "InstanceList": {
        "type": "object",
        "required": ["now", "instances"],
        "properties": {
            "now": {"type": "string", "format": "date-time"},
            "instances": {"type": "array", "items": _ref("WorkflowState")},
        },
    },
    "HistoryEvent": {
        "type": "object",
        "required": ["seq", "eventId", "kind", "timestamp", "fields"],
        "properties": {
            "seq": {"type": "integer"},
            "eventId": {"type": "integer"},
            "kind": {"type": "string"},
            "name": {"type": "string", "nullable": True},
            "timestamp": {"type": "string", "format": "date-time"},
            "wallTime": {"type": "number"},
            "fields": {"type": "object"},
        },
    },
    "History": {
        "type": "object",
        "required": ["instanceID", "now", "events"],
        "properties": {
            "instanceID": {"type": "string"},
            "now": {"type": "string", "format": "date-time"},
            "events": {"type": "array", "items": _ref("HistoryEvent")},
        },
    },
    "RerunRequest": {
        "type": "object",
        "required": ["eventId"],
        "properties": {
            "eventId": {"type": "integer", "minimum": 0, "maximum": 4294967295},
            "newInstanceId": {"type": "string", "pattern": INSTANCE_ID_PATTERN},
            "input": {"description": "Replaces the input of the rerun call (any JSON)"},
        },
    },
    "Info": {
        "type": "object",
        "required": ["workflows", "activities", "now", "clock"],
        "properties": {
            "workflows": {"type": "array", "items": {"type": "string"}},
            "activities": {"type": "array", "items": {"type": "string"}},
            "now": {"type": "string", "format": "date-time"},
            "clock": {"type": "string"},
            "version": {"type": "string"},
        },
    },
}


def build(*, workflows: list[str], token: bool, version: str) -> dict[str, Any]:
    """The description of one server."""
    paths: dict[str, Any] = {}
    for api in DOCUMENTED_VERSIONS:
        suffix = "" if api == DOCUMENTED_VERSIONS[0] else "_" + api.split("-")[-1]
        paths.update(_dapr_paths(api, suffix, workflows))
    paths.update(_wfkit_paths())
    paths["/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This description",
            "tags": ["wfkit"],
            "responses": {
                "200": {
                    "description": "OpenAPI 3",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors(*COMMON),
            },
        }
    }
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "wfkit workflow HTTP API",
            "version": version,
            "description": (
                "Dapr's workflow HTTP API (start, get, raiseEvent, terminate, pause, resume, "
                "purge) served by a wfkit runtime, plus wfkit's own /wfkit/v1 routes (list, "
                "history, rerun) used by the wfkit command line. Errors are JSON "
                '{"errorCode": ..., "message": ...}.'
            ),
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
    if token:
        spec["components"]["securitySchemes"] = {
            "daprApiToken": {"type": "apiKey", "in": "header", "name": "dapr-api-token"},
            "bearer": {"type": "http", "scheme": "bearer"},
        }
        spec["security"] = [{"daprApiToken": []}, {"bearer": []}]
    return spec
