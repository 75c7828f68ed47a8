"""The calls queue's handler: call `LIKE_FUNCTION` on the liked post's device.

Each message names a stored call. The handler makes one try and stores what came
of it before returning, so the post shows it and live browsers see it:

- the function returned: `succeeded` with Particle's `return_value`;
- device offline (408), API trouble (429, 5xx, network): `retrying`, and the
  consumer schedules the next try; on the last one `failed`, and the message goes
  to the dead-letter queue;
- no such function or device (404), token refused (401/403), other 4xx: `failed`
  at once, and the message goes to the dead-letter queue with the reason.

A call already finished is acked and skipped, so a redelivered message does not
call the device again; a process killed mid-call does leave the call unfinished,
and the device may then be called twice.
"""

from __future__ import annotations

import json
from typing import NoReturn

import aio_pika

from shared.log import get_logger

from .consumer import Delivery
from .errors import HandlingFailed, MessageRejected, MessageUndecodable
from .live import LiveNotifier
from .metrics import Metrics
from .models import (
    CALL_FAILED,
    CALL_RETRYING,
    CALL_SUCCEEDED,
    FINISHED_CALL_STATES,
    Call,
)
from .particle import FunctionFailed, FunctionReturned, ParticleApi
from .repo import Repository
from .views import call_json, device_json

log = get_logger("web.calls")


def call_message(call_id: int) -> aio_pika.Message:
    """The calls queue's message for one stored call."""
    return aio_pika.Message(
        body=json.dumps({"call_id": call_id}).encode(),
        message_id=f"call-{call_id}",
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def decode_call_id(body: bytes) -> int:
    try:
        payload = json.loads(body)
    except ValueError:
        raise MessageUndecodable("body is not JSON") from None
    call_id = payload.get("call_id") if isinstance(payload, dict) else None
    if not isinstance(call_id, int) or isinstance(call_id, bool) or call_id < 1:
        raise MessageUndecodable("body has no call_id")
    return call_id


class CallHandler:
    def __init__(
        self,
        repo: Repository,
        particle: ParticleApi,
        live: LiveNotifier,
        metrics: Metrics,
    ) -> None:
        self._repo = repo
        self._particle = particle
        self._live = live
        self._metrics = metrics

    async def __call__(self, delivery: Delivery) -> str:
        call_id = decode_call_id(delivery.body)
        call = await self._repo.get_call(call_id)
        if call is None:
            raise MessageRejected(f"no call {call_id} in the database")
        if call.state in FINISHED_CALL_STATES:
            return "already_finished"

        # TODO: a process killed during this call makes the redelivery call again, so
        # the device may dance twice; sending the call id for the firmware to ignore
        # repeats would retire that (the argument is the post id today).
        outcome = await self._particle.call_function(
            call.device_id, call.function, call.argument
        )
        if isinstance(outcome, FunctionReturned):
            await self._succeeded(call, outcome, delivery.attempt)
            return "succeeded"
        await self._fail(call, outcome, delivery)

    async def _succeeded(
        self, call: Call, outcome: FunctionReturned, attempt: int
    ) -> None:
        stored = await self._repo.record_call(
            call.id,
            state=CALL_SUCCEEDED,
            attempts=attempt,
            return_value=outcome.return_value,
            error=None,
        )
        self._metrics.function_calls.labels(outcome="succeeded").inc()
        await self._announce(stored)
        if outcome.device_name:
            device = await self._repo.set_device_name(
                call.device_id, outcome.device_name
            )
            if device is not None:
                await self._live.announce("device", device_json(device))

    async def _fail(
        self, call: Call, outcome: FunctionFailed, delivery: Delivery
    ) -> NoReturn:
        """Store the failure, then raise what tells the consumer to retry or not."""
        gives_up = not outcome.retryable or delivery.last_attempt
        reason = outcome.reason
        if outcome.retryable and gives_up:
            reason = f"gave up after {delivery.attempt} tries: {reason}"
        stored = await self._repo.record_call(
            call.id,
            state=CALL_FAILED if gives_up else CALL_RETRYING,
            attempts=delivery.attempt,
            error=reason,
        )
        self._metrics.function_calls.labels(
            outcome="failed" if gives_up else "retried"
        ).inc()
        await self._announce(stored)
        if outcome.retryable:
            raise HandlingFailed(outcome.reason)
        raise MessageRejected(outcome.reason)

    async def _announce(self, call: Call) -> None:
        await self._live.announce("call", call_json(call))
