"""DBOS Transact on its default SQLite system database, run in a child process (DBOS is a
process-wide singleton). ``python -m bench._dbos chain|fan|chains N DBFILE [STEPS]`` prints
seconds (``chains``: N workflows started together, each a chain of STEPS steps)."""

from __future__ import annotations

import json
import subprocess
import sys
import time


def measure(kind: str, n: int, db_file: str, steps: int = 0) -> float:
    """Seconds for one run of ``kind`` (``chain`` or ``fan``) of ``n`` no-op steps, or
    (``chains``) of ``n`` chains of ``steps`` steps started together."""
    out = subprocess.run(
        [sys.executable, "-m", "bench._dbos", kind, str(n), db_file, str(steps)],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def _main(kind: str, n: int, db_file: str, steps: int) -> None:
    import logging

    from dbos import DBOS, DBOSConfig

    logging.disable(logging.WARNING)
    config: DBOSConfig = {"name": "wfkit-bench", "system_database_url": f"sqlite:///{db_file}"}
    DBOS(config=config)

    @DBOS.step()
    def noop(x: int) -> int:
        return x

    @DBOS.workflow()
    def noop_workflow(x: int) -> int:
        return noop(x)

    @DBOS.workflow()
    def chain(count: int) -> int:
        for i in range(count):
            noop(i)
        return count

    @DBOS.workflow()
    def fan(count: int) -> int:
        queue = DBOS.retrieve_queue("fan")
        handles = [queue.enqueue(noop_workflow, i) for i in range(count)]
        return len([h.get_result() for h in handles])

    DBOS.launch()
    DBOS.register_queue("fan", worker_concurrency=8, polling_interval_sec=0.01)
    start = time.perf_counter()
    if kind == "chains":
        handles = [DBOS.start_workflow(chain, steps) for _ in range(n)]
        assert all(h.get_result() == steps for h in handles)
    else:
        assert (chain if kind == "chain" else fan)(n) == n
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds}))
    DBOS.destroy()


if __name__ == "__main__":
    _main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
