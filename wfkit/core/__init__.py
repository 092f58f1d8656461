"""The pure core: history events, tasks, state, serde, errors, the executor that maps a
workflow's history to its next decisions, the registry and the clock. No I/O and no
threads; every layer above builds on it (docs/architecture.md)."""
