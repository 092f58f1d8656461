"""The DuckDB store's tables and views: created in a new database, recreated as temporary
views over a file's own, and tried with a write when a file is opened."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

#: Version of the table layout below; a file with a higher one is refused.
SCHEMA_VERSION = 1
APPLICATION = "wfkit"
#: Key prefix of the ``meta`` rows holding an instance's held commands (``Batch.inbox``)
INBOX_KEY = "inbox:"

SCHEMA = [
    """CREATE TABLE schema_version (
        application VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        wfkit_version VARCHAR,
        created_at TIMESTAMP
    )""",
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE instances (
        instance_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        last_updated_at TIMESTAMP NOT NULL,
        input VARCHAR,
        output VARCHAR,
        custom_status VARCHAR,
        failure_message VARCHAR,
        failure_type VARCHAR,
        failure_stack VARCHAR,
        parent_instance_id VARCHAR,
        parent_task_id INTEGER,
        start_at TIMESTAMP,
        origin_instance_id VARCHAR,
        origin_event_id INTEGER,
        ordinal BIGINT NOT NULL
    )""",
    """CREATE TABLE history (
        instance_id VARCHAR NOT NULL,
        seq INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        name VARCHAR,
        ts TIMESTAMP NOT NULL,
        wall_ts TIMESTAMP NOT NULL,
        task_id INTEGER,
        payload VARCHAR,
        failure VARCHAR,
        fields VARCHAR
    )""",
    "CREATE INDEX history_instance ON history (instance_id)",
    """CREATE VIEW timers AS
    SELECT
        c.instance_id,
        c.task_id AS timer_id,
        c.fields ->> 'origin' AS origin,
        c.name,
        c.ts AS created,
        CASE WHEN CAST(c.fields ->> 'fire_at' AS TIMESTAMP) = TIMESTAMP '9999-12-31 23:59:59.999999'
             THEN NULL ELSE CAST(c.fields ->> 'fire_at' AS TIMESTAMP) END AS fire_at,
        f.ts AS fired,
        CASE WHEN f.seq IS NOT NULL THEN 'fired'
             WHEN i.status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN 'canceled'
             ELSE 'pending' END AS state,
        c.seq AS created_seq,
        f.seq AS fired_seq
    FROM history AS c
    LEFT JOIN history AS f
        ON f.instance_id = c.instance_id AND f.kind = 'TimerFired' AND f.task_id = c.task_id
    LEFT JOIN instances AS i ON i.instance_id = c.instance_id
    WHERE c.kind = 'TimerCreated'""",
    """CREATE VIEW tasks AS
    WITH scheduled AS (
        SELECT
            instance_id, seq, task_id, name, ts, wall_ts,
            CASE kind WHEN 'TaskScheduled' THEN 'activity' ELSE 'child_workflow' END AS kind,
            CASE kind
                WHEN 'TaskScheduled'
                THEN coalesce(nullif(fields ->> 'task_execution_id', ''), 'task:' || task_id)
                ELSE 'child:' || (fields ->> 'instance_id')
            END AS call_key,
            nullif(fields ->> 'task_execution_id', '') AS task_execution_id,
            fields ->> 'instance_id' AS child_instance_id
        FROM history
        WHERE kind IN ('TaskScheduled', 'ChildWorkflowInstanceCreated')
    ),
    closing AS (
        SELECT instance_id, task_id, kind, ts, wall_ts, payload, failure
        FROM history
        WHERE kind IN ('TaskCompleted', 'TaskFailed',
                       'ChildWorkflowInstanceCompleted', 'ChildWorkflowInstanceFailed')
    ),
    attempts AS (
        SELECT
            s.*,
            c.kind AS closed_kind, c.ts AS closed_ts, c.wall_ts AS closed_wall_ts,
            c.payload AS result, c.failure AS failure,
            row_number() OVER (PARTITION BY s.instance_id, s.call_key ORDER BY s.seq DESC)
                AS from_last
        FROM scheduled AS s
        LEFT JOIN closing AS c ON c.instance_id = s.instance_id AND c.task_id = s.task_id
    ),
    calls AS (
        SELECT
            instance_id,
            min(task_id) AS task_id,
            list(task_id ORDER BY seq) AS task_ids,
            any_value(kind) AS kind,
            arg_min(name, seq) AS name,
            arg_min(task_execution_id, seq) AS task_execution_id,
            arg_min(child_instance_id, seq) AS child_instance_id,
            min(ts) AS scheduled,
            max(closed_ts) FILTER (WHERE from_last = 1) AS completed,
            min(wall_ts) AS wall_scheduled,
            max(closed_wall_ts) FILTER (WHERE from_last = 1) AS wall_completed,
            count(*)::INTEGER AS attempts,
            max(closed_kind) FILTER (WHERE from_last = 1) AS closed_kind,
            max(result) FILTER (WHERE from_last = 1) AS result,
            max(failure) FILTER (WHERE from_last = 1) AS failure,
            min(seq) AS scheduled_seq
        FROM attempts
        GROUP BY instance_id, call_key
    )
    SELECT
        c.instance_id, c.task_id, c.task_ids, c.kind, c.name, c.task_execution_id,
        c.child_instance_id, c.scheduled, c.completed, c.completed - c.scheduled AS duration,
        c.wall_completed - c.wall_scheduled AS wall_duration, c.attempts,
        CASE
            WHEN c.closed_kind LIKE '%Completed' THEN 'completed'
            WHEN c.closed_kind LIKE '%Failed' THEN 'failed'
            WHEN i.status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN 'canceled'
            ELSE 'pending'
        END AS outcome,
        c.result, c.failure, c.scheduled_seq
    FROM calls AS c
    LEFT JOIN instances AS i ON i.instance_id = c.instance_id""",
]


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    from wfkit.core._version import __version__

    con.execute("BEGIN TRANSACTION")
    try:
        for statement in SCHEMA:
            con.execute(statement)
        con.execute(
            "INSERT INTO schema_version VALUES (?, ?, ?, current_timestamp::TIMESTAMP)",
            [APPLICATION, SCHEMA_VERSION, __version__],
        )
        con.execute("INSERT INTO meta VALUES ('clock', NULL)")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def shadow_views(con: duckdb.DuckDBPyConnection) -> None:
    """wfkit's views as temporary views: they take precedence over the file's own views of
    those names, so reading ``timers`` or ``tasks`` never runs SQL stored in the file."""
    for statement in SCHEMA:
        if statement.startswith("CREATE VIEW"):
            con.execute(statement.replace("CREATE VIEW", "CREATE OR REPLACE TEMP VIEW", 1))


def probe_write(con: duckdb.DuckDBPyConnection) -> None:
    """Write a row to each table and roll it back: a file whose indexes or tables are
    damaged is refused when it is opened, not at the engine's first write."""
    key = f"wfkit-open-probe-{uuid.uuid4().hex}"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO instances (instance_id, name, status, created_at, last_updated_at, "
            "ordinal) VALUES (?, '', '', TIMESTAMP '1970-01-01', TIMESTAMP '1970-01-01', -1)",
            [key],
        )
        con.execute(
            "INSERT INTO history (instance_id, seq, event_id, kind, ts, wall_ts) "
            "VALUES (?, 0, 0, '', TIMESTAMP '1970-01-01', TIMESTAMP '1970-01-01')",
            [key],
        )
    finally:
        con.execute("ROLLBACK")
