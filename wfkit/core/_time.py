"""Time as wfkit keeps it: naive datetimes in UTC (virtual time, history timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_naive_utc(value: datetime) -> datetime:
    """``value`` as a naive datetime in UTC (an aware one is converted, a naive one is
    taken to be UTC already)."""
    if value.utcoffset() is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def utc_now() -> datetime:
    """The wall-clock time now, naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def from_epoch_seconds(seconds: float) -> datetime:
    """A POSIX timestamp (seconds since 1970) as a naive-UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
