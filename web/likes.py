"""Likes: count one at once, and queue the call of `LIKE_FUNCTION` it causes.

The like and its call are stored together first (state `pending`), then the call
goes on the calls queue with a publisher confirm (state `queued`). If the broker
is away the request still succeeds; `requeue_pending` (run every few seconds by
`run_requeuer`) sends what stayed pending once the broker is back. Confirmed calls
are marked queued in batches by `run_marker` (one UPDATE for every call confirmed
while the previous one ran) rather than one transaction per like; the requeuer
skips calls confirmed but not yet marked. A crash between the confirm and the
mark sends a call twice; the calls handler skips a call that already finished.
"""

from __future__ import annotations

import asyncio

from shared.log import get_logger

from .calls import call_message
from .errors import BrokerUnavailable
from .link import Publisher
from .live import LiveNotifier
from .metrics import Metrics
from .repo import Repository
from .views import call_json

log = get_logger("web.likes")

MARK_RETRY_SECONDS = 1.0


class Likes:
    def __init__(
        self,
        repo: Repository,
        publisher: Publisher,
        live: LiveNotifier,
        metrics: Metrics,
        *,
        like_function: str,
        calls_queue: str,
    ) -> None:
        self._repo = repo
        self._publisher = publisher
        self._live = live
        self._metrics = metrics
        self._like_function = like_function
        self._calls_queue = calls_queue
        # Confirmed on the calls queue, not yet marked queued in the database.
        self._confirmed: set[int] = set()
        self._marks_wanted = asyncio.Event()

    async def like(self, post_id: int) -> int | None:
        """Count a like; the post's new count, or None when there is no such post."""
        like = await self._repo.add_like(post_id, self._like_function)
        if like is None:
            return None
        self._metrics.likes.inc()
        # Announced before queueing, so it cannot overtake the call's own outcome.
        await self._live.announce("likes", {"post_id": post_id, "likes": like.likes})
        await self._live.announce("call", call_json(like.call))
        await self._enqueue(like.call.id)
        return like.likes

    async def requeue_pending(self, older_than: float) -> int:
        """Queue the calls left pending for `older_than` seconds; how many went."""
        sent = 0
        for call_id in await self._repo.pending_calls(older_than):
            if call_id in self._confirmed:
                continue  # on the queue already; its mark is on the way
            if not await self._enqueue(call_id):
                break
            sent += 1
        if sent:
            log.info("pending_calls_queued", count=sent)
        return sent

    async def run_requeuer(self, every: float) -> None:
        """Forever: every `every` seconds, queue calls pending for as long."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.requeue_pending(older_than=every)
            except Exception:
                log.exception("pending_calls_requeue_failed")

    async def run_marker(self) -> None:
        """Forever: mark confirmed calls queued, all that came since the last time."""
        while True:
            await self._marks_wanted.wait()
            self._marks_wanted.clear()
            try:
                await self.mark_confirmed()
            except Exception:
                log.exception("calls_mark_failed", count=len(self._confirmed))
                # Kept for the next try; a while later, not in a hot loop.
                await asyncio.sleep(MARK_RETRY_SECONDS)
                self._marks_wanted.set()

    async def mark_confirmed(self) -> None:
        """Mark every call confirmed so far queued (also run once at shutdown)."""
        batch = sorted(self._confirmed)
        if batch:
            await self._repo.mark_calls_queued(batch)
            self._confirmed.difference_update(batch)

    async def _enqueue(self, call_id: int) -> bool:
        try:
            await self._publisher.to_queue(call_message(call_id), self._calls_queue)
        except BrokerUnavailable as error:
            log.warning("call_enqueue_deferred", call_id=call_id, reason=str(error))
            return False
        self._confirmed.add(call_id)
        self._marks_wanted.set()
        return True
