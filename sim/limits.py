"""Particle's event-stream limits, per client IP address.

At most `open_limit` stream requests in any `window` seconds (100 per 5 minutes on
the real cloud), counting every request to an events route, failed ones included;
and at most `concurrency_limit` streams open at once (100 on the real cloud).
TODO: Particle's other limits (10,000 API calls and 100 `/oauth/token` calls per
5 minutes per IP) are not enforced; add them if a client must be shown to cope.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable


class StreamOpenLimiter:
    def __init__(
        self,
        open_limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.open_limit = open_limit
        self.window = window
        self._clock = clock
        self._opens: defaultdict[str, deque[float]] = defaultdict(deque)

    def record_open(self, client_ip: str) -> float | None:
        """Count one open; over the limit, return the seconds until one frees up."""
        now = self._clock()
        opens = self._opens[client_ip]
        while opens and opens[0] <= now - self.window:
            opens.popleft()

        opens.append(now)
        if len(opens) <= self.open_limit:
            return None
        # Rejected requests count too, so a client that keeps hammering stays out.
        # The next request fits once all but the newest `open_limit - 1` have aged out.
        frees_up_at = opens[-self.open_limit] + self.window
        return max(frees_up_at - now, 0.0)

    def clear(self) -> None:
        self._opens.clear()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
