"""Benchmarks: ``python -m bench`` prints a table (see ``python -m bench --help``)."""
