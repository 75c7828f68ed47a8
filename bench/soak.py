"""`python -m bench.soak`: the worker against the simulator for minutes, with faults.

It checks one claim: every event the simulator wrote in full to the worker's stream
reaches RabbitMQ, and nothing else does. The simulator (`python -m sim`, free
port) and the worker (`python -m worker`, product stream, 5 s idle timeout) run as
subprocesses; a scratch topology `soak.<uuid>` has one queue bound to `#`, consumed
throughout. Traffic goes through the control API at `--rate` events/s on average:
one-second bursts of presses and of named events, single presses and publishes (some
with no data), devices going off and online (`spark/status`). Faults come one at a
time, each only once the worker holds a live stream and after a random stretch of
healthy streaming: abrupt, mid-event and clean drops, stalls past the idle timeout,
two 503s and a 429 with `Retry-After: 2` on reconnect. Never 401/403: those stop
the worker by design.

At the end traffic stops, the worker catches up (every journaled id consumed, or
10 s without a new message), gets SIGTERM, and the queue is drained. The
simulator's sent journal (`GET /sim/streams/sent`, paged throughout so it cannot
wrap) is then compared with the consumed `message_id`s: `missing` (journaled, never
consumed) and `unexpected` (consumed, never journaled) must be 0; duplicates are
allowed and counted. Events published while no stream was up (reconnect waits,
stalls) are lost by Particle's design and are in neither set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aio_pika.abc import AbstractIncomingMessage

from shared.topology import invalid_name, unrouted_name

from .harness import CHECKOUT, Scratch, scratch_topology

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_MINUTES = 10.0
DEFAULT_RATE = 300.0
# Healthy streaming before each fault, in seconds; some stretches pass the worker's
# 30 s "healthy connection" mark, after which its backoff should start over.
DEFAULT_GAP = (5.0, 35.0)
IDLE_TIMEOUT = 5.0
# Keep-alives well inside the idle timeout: only a stall may trip it, so the worker
# never hangs up on a stream the simulator is still writing to.
KEEPALIVE = 1.0
DEVICES = 8
STALL_SECONDS = 3 * IDLE_TIMEOUT
MAX_OFFLINE = 2
JOURNAL_PAGE = 50_000
CATCH_UP_QUIET = 10.0
START_TIMEOUT = 20.0
EXIT_TIMEOUT = 30.0

FAULT_KINDS = (
    "drop_abrupt",
    "stall",
    "reject_503",
    "drop_mid_event",
    "reject_429",
    "drop_clean",
)
DROPS: dict[str, dict[str, Any]] = {
    "drop_abrupt": {},
    "drop_mid_event": {"mid_event": True},
    "drop_clean": {"clean": True},
}
START_LINE = re.compile(r"listening on (\S+) with access token (\S+)")


# -- child processes ------------------------------------------------------------


class Child:
    """A subprocess whose output is read as it comes, so its pipe never fills."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.tail: deque[str] = deque(maxlen=40)
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, name: str, module: str, env: dict[str, str]) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            cwd=CHECKOUT,
            env={"PATH": os.environ.get("PATH", ""), **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(name, process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.tail.append(line)
            self.lines.put_nowait(line)

    async def wait_for_line(self, pattern: re.Pattern[str]) -> re.Match[str]:
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                found = pattern.search(await self.lines.get())
                if found is not None:
                    return found

    async def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL past the deadline); the exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), EXIT_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
        return self.process.returncode if self.process.returncode is not None else -1


@dataclass
class WorkerLog:
    """What the worker's JSON log lines say: its stats, how long each connection
    lasted, and the reconnect attempts and waits its retry policy logged."""

    stats: dict[str, Any] = field(default_factory=dict)
    connects: int = 0
    waits: list[float] = field(default_factory=list)
    max_attempt: int = 0
    connections_s: list[float] = field(default_factory=list)
    _connected_at: datetime | None = None

    def take(self, line: str) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            return
        if isinstance(record, dict) and isinstance(record.get("timestamp"), str):
            self._take(record, datetime.fromisoformat(record["timestamp"]))

    def _take(self, record: dict[str, Any], at: datetime) -> None:
        event = record.get("event")
        if event == "worker_stats":
            self.stats = record
        elif event == "stream_connected":
            self.connects += 1
            self._connected_at = at
        elif event == "stream_reconnect_scheduled":
            self._connection_ended(at)
            self.waits.append(float(record.get("wait_s", 0.0)))
            self.max_attempt = max(self.max_attempt, int(record.get("attempt", 0)))
        elif event == "worker_stopped":
            self._connection_ended(at)

    def _connection_ended(self, at: datetime) -> None:
        # A refused open (503, 429) logs a reconnect too, with no connection before.
        if self._connected_at is not None:
            self.connections_s.append((at - self._connected_at).total_seconds())
            self._connected_at = None

    async def follow(self, worker: Child) -> None:
        while True:
            self.take(await worker.lines.get())


async def start_sim() -> tuple[Child, str, str]:
    """The simulator on a free loopback port; its child, base URL and token."""
    sim = await Child.start(
        "sim",
        "sim",
        {
            "SIM_HOST": "127.0.0.1",
            "SIM_PORT": "0",
            "SIM_DEVICES": str(DEVICES),
            "SIM_PRESS_INTERVAL": "0",
            "SIM_KEEPALIVE": str(KEEPALIVE),
            "LOG_LEVEL": "warning",
            "LOG_FORMAT": "json",
        },
    )
    try:
        found = await sim.wait_for_line(START_LINE)
    except TimeoutError:
        await sim.stop()
        raise RuntimeError("the simulator did not print its start line") from None
    return sim, found.group(1), found.group(2)


def worker_env(
    api_url: str, token: str, product: str, broker_url: str, exchange: str
) -> dict[str, str]:
    return {
        "PARTICLE_API_URL": api_url,
        "PARTICLE_ACCESS_TOKEN": token,
        "PARTICLE_PRODUCT": product,
        "PARTICLE_STREAM_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
        "RABBITMQ_URL": broker_url,
        "PARTICLE_EXCHANGE": exchange,
        "STATS_INTERVAL": "10",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
    }


# -- the simulator's control API ------------------------------------------------


class Control:
    """Calls to the simulator's `/sim/` API; any answer above 409 is an error."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def get(self, path: str) -> Any:
        async with self._session.get(path) as response:
            response.raise_for_status()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> int:
        async with self._session.post(path, json=body or {}) as response:
            if response.status > 409:
                raise RuntimeError(f"POST {path}: {response.status}")
            return response.status

    async def clear_faults(self) -> None:
        async with self._session.delete("/sim/faults") as response:
            response.raise_for_status()

    async def live_stream(self, newer_than: int) -> int | None:
        """The id of an open, unstalled stream newer than `newer_than`, if any."""
        streams = (await self.get("/sim/streams"))["streams"]
        live = [s["id"] for s in streams if not s["stalled"] and s["id"] > newer_than]
        return max(live, default=None)

    async def wait_for_live_stream(self, newer_than: int, until: float) -> int | None:
        while time.monotonic() < until:
            stream = await self.live_stream(newer_than)
            if stream is not None:
                return stream
            await asyncio.sleep(0.2)
        return None


# -- traffic and faults ---------------------------------------------------------


class Traffic:
    """Events through the control API at `rate` per second on average."""

    def __init__(self, control: Control, devices: list[str], rate: float) -> None:
        self._control = control
        self._devices = devices
        self._rate = rate
        self._random = random.Random(f"soak/traffic/{rate}")
        self._offline: set[str] = set()
        self.requested = 0

    async def run(self, until: float) -> None:
        """One tick a second until `until`, then every device back online."""
        started = time.monotonic()
        for tick in itertools.count(1):
            if time.monotonic() >= until:
                break
            await self._tick(tick)
            await asyncio.sleep(max(0.0, started + tick - time.monotonic()))
        # Bursts spread over a second; let the last ones finish.
        await asyncio.sleep(1.5)
        for device in sorted(self._offline):
            await self._set_online(device, True)

    async def _tick(self, tick: int) -> None:
        presses, named = int(self._rate * 0.6), int(self._rate * 0.3)
        await self._burst({"count": presses, "seconds": 1})
        device = self._random.choice(self._devices)
        name = f"soak/burst/{tick}"
        await self._burst(
            {"count": named, "seconds": 1, "device": device, "name": name}
        )
        if tick % 3 == 0:
            await self._toggle_a_device()
        singles = max(1, int(self._rate * 0.1))
        for number in range(singles):
            await self._single(tick, number)
            await asyncio.sleep(0.8 / singles)

    async def _burst(self, body: dict[str, Any]) -> None:
        await self._control.post("/sim/burst", body)
        self.requested += int(body["count"])

    async def _single(self, tick: int, number: int) -> None:
        device = self._random.choice(self._devices)
        if number % 2:
            status = await self._control.post(f"/sim/devices/{device}/press")
        else:
            # Every fifth has no data at all: the stream says null, the id uses "".
            body = {"name": "soak/single"}
            if number % 5:
                body["data"] = f"{tick}.{number}"
            status = await self._control.post(f"/sim/devices/{device}/publish", body)
        self.requested += status == 200

    async def _toggle_a_device(self) -> None:
        online = [d for d in self._devices if d not in self._offline]
        if self._offline and (len(self._offline) >= MAX_OFFLINE or self._coin()):
            await self._set_online(self._random.choice(sorted(self._offline)), True)
        else:
            await self._set_online(self._random.choice(online), False)

    def _coin(self) -> bool:
        return self._random.random() < 0.5

    async def _set_online(self, device: str, online: bool) -> None:
        action = "online" if online else "offline"
        await self._control.post(f"/sim/devices/{device}/{action}")
        self.requested += 1
        if online:
            self._offline.discard(device)
        else:
            self._offline.add(device)


def fault_kinds(seed: str) -> Iterator[str]:
    """Every kind once in a fixed order, then kinds at random."""
    yield from FAULT_KINDS
    chooser = random.Random(seed)
    while True:
        yield chooser.choice(FAULT_KINDS)


class Faults:
    """One fault at a time, each on a live stream after some healthy streaming."""

    def __init__(self, control: Control, gap: tuple[float, float]) -> None:
        self._control = control
        self._gap = gap
        self._random = random.Random("soak/faults")
        self.injected: Counter[str] = Counter()
        self.missed_stream = 0

    async def run(self, until: float) -> None:
        kinds = fault_kinds("soak/kinds")
        last_faulted = 0
        while True:
            stream = await self._control.wait_for_live_stream(last_faulted, until)
            if stream is None:
                return
            healthy = self._random.uniform(*self._gap)
            await asyncio.sleep(max(0.0, min(healthy, until - time.monotonic())))
            if time.monotonic() >= until:
                return
            kind = next(kinds)
            if await self._inject(kind):
                self.injected[kind] += 1
            else:
                self.missed_stream += 1
            last_faulted = stream

    async def _inject(self, kind: str) -> bool:
        """Inject one fault into the open streams; False if none was open."""
        if kind == "reject_503":
            await self._reject({"count": 2, "status": 503})
            return await self._fault("drop", {"clean": True})
        if kind == "reject_429":
            await self._reject({"count": 1, "status": 429, "retry_after": "2"})
            return await self._fault("drop", {})
        if kind == "stall":
            timed = self._random.random() < 0.5
            seconds = {"seconds": STALL_SECONDS} if timed else {}
            return await self._fault("stall", seconds)
        drop = dict(DROPS[kind])
        if self._random.random() < 0.5:
            # Cut after some more events rather than at whatever moment this is.
            drop["after_events"] = self._random.randint(1, 100)
        return await self._fault("drop", drop)

    async def _reject(self, rejection: dict[str, Any]) -> None:
        """Arm answers for the next opens; the drop that follows makes one."""
        body = {"error": "soak", "error_description": f"soak {rejection['status']}"}
        await self._control.post("/sim/streams/reject", {**rejection, "body": body})

    async def _fault(self, action: str, body: dict[str, Any]) -> bool:
        before = await self._control.live_stream(0)
        await self._control.post(f"/sim/streams/{action}", body)
        return before is not None


# -- what was sent, what arrived -----------------------------------------------


@dataclass
class Received:
    """Every message consumed from the scratch queue, counted by message_id."""

    counts: Counter[str] = field(default_factory=Counter)
    without_id: int = 0
    last_at: float = field(default_factory=time.monotonic)

    async def take(self, message: AbstractIncomingMessage) -> None:
        self.last_at = time.monotonic()
        if message.message_id:
            self.counts[message.message_id] += 1
        else:
            self.without_id += 1

    @property
    def total(self) -> int:
        return self.counts.total() + self.without_id


@dataclass
class Journal:
    """The simulator's sent journal, paged in as it grows; `gap` counts entries it
    wrapped past before they were read (the comparison is incomplete if not 0)."""

    counts: Counter[str] = field(default_factory=Counter)
    cursor: int = 0
    gap: int = 0

    async def catch_up(self, control: Control) -> None:
        while True:
            page = await control.get(
                f"/sim/streams/sent?after={self.cursor}&limit={JOURNAL_PAGE}"
            )
            events = page["events"]
            if not events:
                if page["dropped_from_journal"] > self.cursor:
                    self.gap += page["recorded"] - self.cursor
                    self.cursor = page["recorded"]
                return
            self.gap += events[0]["index"] - self.cursor - 1
            self.cursor = events[-1]["index"]
            self.counts.update(event["id"] for event in events)
            if len(events) < JOURNAL_PAGE:
                return

    async def follow(self, control: Control) -> None:
        while True:
            await self.catch_up(control)
            await asyncio.sleep(2)


async def wait_for_catch_up(
    journal: Journal, received: Received, control: Control
) -> None:
    """Until every journaled id was consumed, or nothing arrived for a while."""
    while True:
        await journal.catch_up(control)
        if not journal.counts.keys() - received.counts.keys():
            return
        if time.monotonic() - received.last_at > CATCH_UP_QUIET:
            return
        await asyncio.sleep(0.5)


async def wait_for_drained(scratch: Scratch, received: Received) -> None:
    """Until the queue is empty and no message came for a second (30 s at most)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            while await scratch.depth() or time.monotonic() - received.last_at < 1:
                await asyncio.sleep(0.2)


def compare(journal: Journal, received: Received) -> dict[str, int]:
    sent, got = journal.counts, received.counts
    return {
        "events_sent": sent.total(),
        "unique_ids_sent": len(sent),
        "received": received.total,
        "missing": len(sent.keys() - got.keys()),
        "duplicates": got.total() - len(got),
        "unexpected": len(got.keys() - sent.keys()) + received.without_id,
        "journal_gap": journal.gap,
    }


# -- the run --------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    minutes: float = DEFAULT_MINUTES
    rate: float = DEFAULT_RATE
    gap: tuple[float, float] = DEFAULT_GAP
    broker_url: str = field(
        default_factory=lambda: os.environ.get("RABBITMQ_URL", DEFAULT_BROKER_URL)
    )


async def run(options: Options) -> dict[str, Any]:
    """Run the soak and return its summary (see `failed` for what counts)."""
    async with scratch_topology(options.broker_url, prefix="soak") as scratch:
        sim, api_url, token = await start_sim()
        try:
            async with aiohttp.ClientSession(api_url) as session:
                summary = await _soak(
                    options, scratch, Control(session), api_url, token
                )
        finally:
            await sim.stop()
    return summary


async def _soak(
    options: Options, scratch: Scratch, control: Control, api_url: str, token: str
) -> dict[str, Any]:
    state = await control.get("/sim/state")
    product = str(state["product"]["id"])
    env = worker_env(api_url, token, product, options.broker_url, scratch.exchange)
    seen = Seen(Received(), Journal(), WorkerLog())
    consumer = await scratch.queue.consume(seen.received.take, no_ack=True)
    worker = await Child.start("worker", "worker", env)
    following = [
        asyncio.create_task(seen.log.follow(worker)),
        asyncio.create_task(seen.journal.follow(control)),
    ]
    try:
        started = time.monotonic()
        drive = await _drive(options, control, [d["id"] for d in state["devices"]])
        await wait_for_catch_up(seen.journal, seen.received, control)
        exit_code = await worker.stop()
        await wait_for_drained(scratch, seen.received)
        await seen.journal.catch_up(control)
        duration = time.monotonic() - started
        await scratch.queue.cancel(consumer)
        leftovers = await _leftovers(scratch)
    finally:
        await worker.stop()
        for task in following:
            task.cancel()
    # The last lines, the stats at exit among them, may still be queued.
    while not worker.lines.empty():
        seen.log.take(worker.lines.get_nowait())

    summary = summarise(options, seen, drive, leftovers, exit_code, duration)
    if failed(summary):
        summary["worker_log_tail"] = list(worker.tail)
    return summary


@dataclass(frozen=True)
class Seen:
    """What the soak watches: the queue, the simulator's journal, the worker's log."""

    received: Received
    journal: Journal
    log: WorkerLog


@dataclass(frozen=True)
class Drive:
    traffic: Traffic
    faults: Faults
    # Faults still armed when traffic stopped (rejections no open consumed).
    left_armed: int


async def _drive(options: Options, control: Control, devices: list[str]) -> Drive:
    """Traffic and faults until the time is up, then every fault disarmed."""
    if await control.wait_for_live_stream(0, time.monotonic() + START_TIMEOUT) is None:
        raise RuntimeError("the worker never opened its stream")
    until = time.monotonic() + options.minutes * 60
    traffic = Traffic(control, devices, options.rate)
    faults = Faults(control, options.gap)
    async with asyncio.TaskGroup() as group:
        group.create_task(traffic.run(until))
        group.create_task(faults.run(until))
    armed = (await control.get("/sim/streams"))["faults"]
    await control.clear_faults()
    left_armed = len(armed["rejections"]) + len(armed["stream_faults"])
    return Drive(traffic, faults, left_armed)


async def _leftovers(scratch: Scratch) -> dict[str, int]:
    return {
        "invalid_queue": await scratch.depth(invalid_name(scratch.exchange)),
        "unrouted_queue": await scratch.depth(unrouted_name(scratch.exchange)),
    }


def summarise(
    options: Options,
    seen: Seen,
    drive: Drive,
    leftovers: dict[str, int],
    exit_code: int,
    duration: float,
) -> dict[str, Any]:
    summary: dict[str, Any] = {"minutes": options.minutes}
    summary.update(compare(seen.journal, seen.received))
    # The simulator sends only valid events: anything the worker found invalid (a
    # cut frame glued onto the next one, say) is something it never sent.
    summary["unexpected"] += leftovers["invalid_queue"]
    log, injected = seen.log, drive.faults.injected
    summary.update(
        {
            "traffic_requested": drive.traffic.requested,
            "sent_per_second": round(summary["events_sent"] / duration, 1),
            "faults": dict(sorted(injected.items())),
            "faults_total": injected.total(),
            "faults_left_armed": drive.left_armed,
            "faults_without_stream": drive.faults.missed_stream,
            "stream_opens": log.connects,
            "worker_reconnects": log.stats.get("reconnects"),
            "worker_received": log.stats.get("received"),
            "worker_published": log.stats.get("published"),
            "worker_dropped": log.stats.get("dropped"),
            "worker_reconnect_wait_s": round(sum(log.waits), 1),
            "worker_max_reconnect_attempt": log.max_attempt,
            "worker_longest_connection_s": round(max(log.connections_s, default=0), 1),
            "worker_connections_over_30s": sum(c >= 30 for c in log.connections_s),
            "worker_exit_code": exit_code,
            "duration_s": round(duration, 1),
            **leftovers,
        }
    )
    return summary


def failed(summary: dict[str, Any]) -> bool:
    """Anything lost or invented, an incomplete comparison, or a bad worker exit."""
    return bool(
        summary["missing"]
        or summary["unexpected"]
        or summary["journal_gap"]
        or summary["worker_exit_code"] != 0
    )


def report(summary: dict[str, Any]) -> str:
    width = max(len(key) for key in summary)
    lines = [f"{key:<{width}}  {value}" for key, value in summary.items()]
    verdict = "FAILED" if failed(summary) else "passed"
    return "\n".join(["soak: " + verdict, *lines])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary = asyncio.run(run(Options(minutes=args.minutes, rate=args.rate)))
    print(report(summary))
    print(json.dumps(summary, default=str))
    return 1 if failed(summary) else 0


if __name__ == "__main__":
    sys.exit(main())
