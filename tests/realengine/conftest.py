"""Dapr's real workflow engine (durabletask-go's sidecar), started once per test session.

The fixtures ``sidecar`` (one engine for the session) and ``fresh_sidecar`` (one per test)
live in ``tests/conftest.py``, so the conformance suite uses them too.
"""
