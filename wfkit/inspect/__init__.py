"""Read models of recorded instances: the replay stepper, the replayed instance, the
execution graph and its layout, JSON views of states and events, where a history comes
from (runtime, store, file) and the determinism check of a history against edited code.
Reads the runtime and the store; draws nothing (docs/architecture.md)."""
