"""Faults armed through the control API for stream opens still to come.

Two families: a `Rejection` answers the next N stream requests with a chosen status
and body instead of a stream; a `StreamFault` lets the next N streams open and then
drops or stalls them, at once or after some events. Faults for streams that are
already open go straight to those streams (`StreamRegistry`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Literal

FaultKind = Literal["drop", "stall"]


@dataclass
class Rejection:
    status: int
    body: str
    content_type: str
    retry_after: str | None
    remaining: int


@dataclass
class StreamFault:
    kind: FaultKind
    # How many more stream opens it applies to; None: every one until cleared.
    remaining: int | None
    after_events: int = 0
    # drop: finish the chunked body cleanly instead of cutting the connection.
    clean: bool = False
    # drop: cut the connection halfway through an event frame.
    mid_event: bool = False
    # stall: resume after this many seconds; None: stay silent for good.
    seconds: float | None = None


class FaultPlan:
    def __init__(self) -> None:
        self._rejections: deque[Rejection] = deque()
        self._stream_faults: deque[StreamFault] = deque()

    def arm_rejection(self, rejection: Rejection) -> None:
        self._rejections.append(rejection)

    def arm_stream_fault(self, fault: StreamFault) -> None:
        self._stream_faults.append(fault)

    def take_rejection(self) -> Rejection | None:
        return _take(self._rejections)

    def take_stream_fault(self) -> StreamFault | None:
        fault = self._stream_faults[0] if self._stream_faults else None
        if fault is None:
            return None

        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._stream_faults.popleft()
        return fault

    def clear(self) -> None:
        self._rejections.clear()
        self._stream_faults.clear()

    def view(self) -> dict[str, object]:
        return {
            "rejections": [asdict(r) for r in self._rejections],
            "stream_faults": [asdict(f) for f in self._stream_faults],
        }


def _take(rejections: deque[Rejection]) -> Rejection | None:
    if not rejections:
        return None
    rejection = rejections[0]
    rejection.remaining -= 1
    if rejection.remaining <= 0:
        rejections.popleft()
    return rejection
