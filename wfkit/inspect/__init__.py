"""Read models of recorded instances: the replay stepper, the replayed instance, the
execution graph and its layout, and JSON views of states and events. Reads the runtime and
the store; draws nothing (docs/architecture.md)."""
