"""The package version, in the lowest layer so the store and front ends can read it."""

__version__ = "0.1.0"
