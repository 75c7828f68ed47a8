"""Calling a webhook's URL for an event, and reporting back as Particle does.

Each call publishes `hook-sent/<event>` first, then either `hook-response/<event>/<i>`
(the response body in 512-byte chunks, first 100 KB) or `hook-error/<event>/0`.
With no template the body is Particle's default form: event, data, published_at,
coreid. Targets must answer within 20 seconds.
TODO: Particle skips and later retries calls to a host that keeps failing; this
sender calls every time. Add the back-off when a test needs to see it.
TODO: responses are cut into 512-character chunks, not 512-byte ones; the two differ
only for non-ASCII bodies. Cut on UTF-8 bytes if a consumer ever reassembles them.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from shared.log import get_logger
from sim.events import INTERNAL_COREID, Event, EventBus, iso_millis, utc_now
from sim.loopback import NotLoopback, check_loopback_url
from sim.mustache import render, render_tree

if TYPE_CHECKING:
    from sim.webhooks import Webhook

USER_AGENT = "ParticleBot/1.1 (https://docs.particle.io/webhooks)"
TIMEOUT_SECONDS = 20
CHUNK_BYTES = 512
MAX_RESPONSE_BYTES = 100 * 1024

log = get_logger("sim.webhooks")


@dataclass(frozen=True)
class Delivery:
    event: str
    status: int | None
    error: str | None
    sent_at: datetime
    duration_ms: int

    def view(self) -> dict[str, object]:
        return {
            "event": self.event,
            "status": self.status,
            "error": self.error,
            "sent_at": iso_millis(self.sent_at),
            "duration_ms": self.duration_ms,
        }


@dataclass
class HookRequest:
    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None
    json: Any = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def template_variables(event: Event) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "PARTICLE_DEVICE_ID": event.coreid,
        "PARTICLE_EVENT_NAME": event.name,
        "PARTICLE_EVENT_VALUE": event.data or "",
        "PARTICLE_PUBLISHED_AT": iso_millis(event.published_at),
        "PRODUCT_ID": event.product_id or "",
        "PRODUCT_USER_ID": event.userid,
        "PRODUCT_VERSION": event.version,
    }
    try:
        parsed = json.loads(event.data or "")
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        # Keys of JSON event data become variables, the built-in names win.
        return {**parsed, **variables}
    return variables


def build_request(hook: Webhook, event: Event) -> HookRequest:
    variables = template_variables(event)
    defaults = {
        "event": event.name,
        "data": event.data or "",
        "published_at": iso_millis(event.published_at),
        "coreid": event.coreid,
    }
    request = HookRequest(method=hook.request_type, url=render(hook.url, variables))
    request.headers = {
        **{k: render(str(v), variables) for k, v in (hook.headers or {}).items()},
        "User-Agent": USER_AGENT,
    }
    request.params = {
        k: render(str(v), variables) for k, v in (hook.query or {}).items()
    }
    if hook.auth:
        request.headers["Authorization"] = aiohttp.encode_basic_auth(
            hook.auth.get("username", ""), hook.auth.get("password", "")
        )
    _fill_body(request, hook, variables, {} if hook.no_defaults else defaults)
    return request


def _fill_body(
    request: HookRequest,
    hook: Webhook,
    variables: dict[str, Any],
    defaults: dict[str, str],
) -> None:
    if hook.json is not None:
        rendered = render_tree(hook.json, variables)
        request.json = (
            {**defaults, **rendered} if isinstance(rendered, dict) else rendered
        )
    elif hook.form is not None:
        rendered_form = render_tree(hook.form, variables)
        request.form = {**defaults, **{k: str(v) for k, v in rendered_form.items()}}
    elif hook.body is not None:
        request.body = render(hook.body, variables)
    elif request.method == "GET":
        request.params = {**defaults, **request.params}
    else:
        request.form = dict(defaults)


class HookSender:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Delivery]] = set()

    async def start(self) -> None:
        # trust_env=False: no proxy variables may send a call anywhere but the URL.
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS), trust_env=False
        )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def send_later(self, hook: Webhook, event: Event) -> None:
        if self._session is None:
            return
        task = asyncio.get_running_loop().create_task(self.deliver(hook, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, hook: Webhook, event: Event) -> Delivery:
        request = build_request(hook, event)
        started, sent_at = time.monotonic(), utc_now()
        self._publish(hook, f"hook-sent/{event.name}", "undefined")
        try:
            # The URL may be a template: check what it rendered to, not the template.
            check_loopback_url(request.url)
            status, text = await self._call(request)
            error = None if 200 <= status < 300 else f"error status {status}"
        except NotLoopback as refused:
            status, text, error = None, "", f"refused: {refused}"
        except (aiohttp.ClientError, TimeoutError, OSError) as failure:
            status, text, error = None, "", f"error {_short_reason(failure)}"

        self._report(hook, event, request, text, error)
        delivery = Delivery(
            event.name,
            status,
            error,
            sent_at,
            round((time.monotonic() - started) * 1000),
        )
        hook.record(delivery)
        log.info("webhook_called", hook=hook.id, event_name=event.name, status=status)
        return delivery

    async def _call(self, request: HookRequest) -> tuple[int, str]:
        assert self._session is not None
        async with self._session.request(
            request.method,
            request.url,
            params=request.params or None,
            data=request.form if request.form is not None else request.body,
            json=request.json,
            headers=request.headers,
            allow_redirects=False,
        ) as response:
            raw = await response.content.read(MAX_RESPONSE_BYTES)
            return response.status, raw.decode("utf-8", errors="replace")

    def _report(
        self,
        hook: Webhook,
        event: Event,
        request: HookRequest,
        text: str,
        error: str | None,
    ) -> None:
        variables = template_variables(event)
        if error is not None:
            host = urlsplit(request.url).hostname or request.url
            template = hook.error_response_topic or "hook-error/{{PARTICLE_EVENT_NAME}}"
            topic = render(template, variables)
            self._publish(hook, f"{topic}/0", f"{error} from {host}")
            return

        default_topic = "hook-response/{{PARTICLE_EVENT_NAME}}"
        if hook.product_id is not None:
            default_topic = "{{PARTICLE_DEVICE_ID}}/" + default_topic
        topic = render(hook.response_topic or default_topic, variables)
        for index, start in enumerate(range(0, len(text), CHUNK_BYTES)):
            self._publish(hook, f"{topic}/{index}", text[start : start + CHUNK_BYTES])

    def _publish(self, hook: Webhook, name: str, data: str) -> None:
        self._bus.publish(
            Event(
                name=name,
                data=data,
                coreid=INTERNAL_COREID,
                owner_id=hook.owner_id,
                product_id=hook.product_id,
            )
        )


def _short_reason(failure: BaseException) -> str:
    # Particle reports Node's error codes; map the usual ones to the same words.
    if isinstance(failure, TimeoutError | aiohttp.ServerTimeoutError):
        return "ETIMEDOUT"
    if isinstance(failure, aiohttp.ClientConnectorError):
        return "ECONNREFUSED"
    return type(failure).__name__
