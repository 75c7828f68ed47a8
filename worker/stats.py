"""The worker's counters, logged as one `worker_stats` line a minute."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class WorkerStats:
    received: int = 0
    published: int = 0
    invalid: int = 0
    unrouted: int = 0
    buffered: int = 0
    dropped: int = 0
    reconnects: int = 0
    connected_since: str | None = None

    def as_fields(self) -> dict[str, int | str | None]:
        return asdict(self)
