"""Time is injected: the system clock in production, a movable one in the sandbox."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

#: The platform's business time zone: business dates, batches and reports follow it.
PARIS = ZoneInfo("Europe/Paris")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The real time moved by an offset that tests and the sandbox may change."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def set_offset(self, offset: timedelta) -> None:
        with self._lock:
            self._offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def local(moment: datetime, zone: ZoneInfo = PARIS) -> datetime:
    return moment.astimezone(zone)


def business_date(moment: datetime, zone: ZoneInfo = PARIS) -> date:
    """The platform's day a moment belongs to."""
    return moment.astimezone(zone).date()


def iso(moment: datetime, zone: ZoneInfo = PARIS) -> str:
    """ISO 8601 with the offset, seconds precision, as the platform writes dates."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def aware(moment: datetime) -> datetime:
    """A stored moment as an aware datetime: SQLite gives back naive UTC datetimes."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_cutoff(value: str) -> time:
    """``"22:00"`` -> 22:00; raises ValueError for anything else."""
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def batch_due_date(moment: datetime, cutoff: time, zone: ZoneInfo = PARIS) -> date:
    """The latest batch date whose cut-off has passed at ``moment``: today once the local
    time reaches the cut-off, yesterday before it."""
    here = moment.astimezone(zone)
    today = here.date()
    return today if here.time() >= cutoff else today - timedelta(days=1)
