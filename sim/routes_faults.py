"""Fault injection on event streams, open ones and ones still to come.

`drop` and `stall` act on every open stream (unless `"open": false`) and arm the
next `next` stream opens (a number, or `"all"` for every one until
`DELETE /sim/faults`); `after_events` delays the fault until a stream has sent that
many events. `reject` answers the next `count` opens with a chosen status and body.
`GET /sim/streams/sent` reads the journal of what streams wrote, to check a client
against.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from aiohttp import web

from shared.log import get_logger
from sim.cloud import Cloud, cloud_of
from sim.errors import ApiError
from sim.faults import FaultKind, Rejection, StreamFault
from sim.params import flag_param, float_param, int_param, read_params, text_param
from sim.responses import json_response
from sim.streams import Drop, Resume, Stall, StreamCommand

ERROR_STATUS = (400, 599)
MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# RFC 9110: delay-seconds, or an HTTP-date in the IMF-fixdate form senders must use.
DELAY_SECONDS = re.compile(r"[0-9]+")
IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) ("
    + "|".join(MONTHS)
    + r") ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)

routes = web.RouteTableDef()
log = get_logger("sim.faults")


def _future_count(params: dict[str, Any]) -> int | None:
    """`next` as a count of stream opens; None means all of them."""
    raw = params.get("next", 0)
    if raw == "all":
        return None
    return int_param(params, "next", 0)


async def _apply(
    request: web.Request, kind: FaultKind, make_command: StreamCommand
) -> web.Response:
    cloud = cloud_of(request)
    params = await read_params(request)
    future = _future_count(params)
    after_events = int_param(params, "after_events", 0)

    affected = 0
    if flag_param(params, "open", default=True):
        affected = _command_open(cloud, make_command, after_events, kind, params)
    if future is None or future > 0:
        cloud.faults.arm_stream_fault(_fault(kind, future, after_events, params))

    next_view = "all" if future is None else future
    log.info("stream_fault", kind=kind, open_streams=affected, next=next_view)
    return json_response({"ok": True, "open_streams": affected, "next": next_view})


def _command_open(
    cloud: Cloud,
    command: StreamCommand,
    after_events: int,
    kind: FaultKind,
    params: dict[str, Any],
) -> int:
    streams = cloud.streams.all()
    for stream in streams:
        if after_events > 0:
            # Counted from now: the fault waits for that many more events.
            fault = _fault(kind, 1, stream.events_sent + after_events, params)
            stream.pending_fault = fault
        else:
            stream.command(command)
    return len(streams)


def _fault(
    kind: FaultKind, remaining: int | None, after_events: int, params: dict[str, Any]
) -> StreamFault:
    seconds = params.get("seconds")
    return StreamFault(
        kind=kind,
        remaining=remaining,
        after_events=after_events,
        clean=flag_param(params, "clean"),
        mid_event=flag_param(params, "mid_event"),
        seconds=None if seconds is None else float_param(params, "seconds", 0.0),
    )


@routes.post("/sim/streams/drop")
async def drop_streams(request: web.Request) -> web.Response:
    params = await read_params(request)
    command = Drop(
        clean=flag_param(params, "clean"), mid_event=flag_param(params, "mid_event")
    )
    return await _apply(request, "drop", command)


@routes.post("/sim/streams/stall")
async def stall_streams(request: web.Request) -> web.Response:
    params = await read_params(request)
    seconds = params.get("seconds")
    command = Stall(None if seconds is None else float_param(params, "seconds", 0.0))
    return await _apply(request, "stall", command)


@routes.post("/sim/streams/resume")
async def resume_streams(request: web.Request) -> web.Response:
    cloud = cloud_of(request)

    resumed = cloud.streams.command_all(Resume())
    return json_response({"ok": True, "open_streams": resumed})


@routes.post("/sim/streams/reject")
async def reject_streams(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    params = await read_params(request)
    low, high = ERROR_STATUS
    status = int_param(params, "status", 503, minimum=low, maximum=high)
    count = int_param(params, "count", 1, minimum=1)
    retry_after = _retry_after(params)

    body, content_type = _rejection_body(params, status)
    cloud.faults.arm_rejection(
        Rejection(status, body, content_type, retry_after, count)
    )

    log.info("stream_rejection_armed", status=status, count=count)
    return json_response({"ok": True, "count": count, "status": status})


def _retry_after(params: dict[str, Any]) -> str | None:
    value = text_param(params, "retry_after")
    if value is None or DELAY_SECONDS.fullmatch(value) or _is_http_date(value):
        return value
    raise ApiError.bad_request(
        "retry_after must be a whole number of seconds or an HTTP date"
        " (like Sun, 06 Nov 1994 08:49:37 GMT)"
    )


def _is_http_date(value: str) -> bool:
    match = IMF_FIXDATE.fullmatch(value)
    if match is None:
        return False
    day, month, year, hour, minute, second = match.groups()
    try:
        datetime(
            int(year),
            MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
        )
    except ValueError:
        return False
    return True


def _rejection_body(params: dict[str, Any], status: int) -> tuple[str, str]:
    body = params.get("body")
    content_type = text_param(params, "content_type")
    if body is None:
        body = {"ok": False, "error": f"simulated error {status}"}
    if isinstance(body, dict | list):
        return json.dumps(body), content_type or "application/json"
    return str(body), content_type or "text/plain"


@routes.delete("/sim/faults")
async def clear_faults(request: web.Request) -> web.Response:
    cloud = cloud_of(request)

    cloud.faults.clear()
    resumed = cloud.streams.command_all(Resume())
    return json_response({"ok": True, "open_streams_resumed": resumed})


@routes.get("/sim/streams")
async def list_streams(request: web.Request) -> web.Response:
    cloud = cloud_of(request)

    return json_response(
        {
            "streams": [s.view() for s in cloud.streams.all()],
            "faults": cloud.faults.view(),
        }
    )


@routes.get("/sim/streams/sent")
async def sent_events(request: web.Request) -> web.Response:
    """The sent journal, oldest first: `after` an index, at most `limit` entries.

    `dropped_from_journal` counts entries that no longer fit; a reader whose last
    index is below it has missed some. `recorded` is the index of the newest entry.
    """
    cloud = cloud_of(request)
    query = dict(request.query)
    after = int_param(query, "after", 0)
    limit = int_param(query, "limit", 0)

    entries = cloud.sent.after(after, limit or None)
    return json_response(
        {
            "events": [entry.view() for entry in entries],
            "dropped_from_journal": cloud.sent.dropped,
            "recorded": cloud.sent.recorded,
        }
    )
