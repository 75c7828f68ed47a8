"""Particle's stream limits: opens per window and open streams, per client IP."""

from __future__ import annotations

from sim.limits import StreamOpenLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_allows_up_to_the_limit() -> None:
    limiter = StreamOpenLimiter(open_limit=3, window=300, clock=FakeClock())

    results = [limiter.record_open("10.0.0.1") for _ in range(3)]

    assert results == [None, None, None]


def test_limiter_refuses_past_the_limit_with_wait() -> None:
    clock = FakeClock()
    limiter = StreamOpenLimiter(open_limit=2, window=300, clock=clock)
    limiter.record_open("10.0.0.1")
    clock.now += 100
    limiter.record_open("10.0.0.1")
    clock.now += 50

    wait = limiter.record_open("10.0.0.1")

    # The refused open counts too: both earlier ones must age out first.
    assert wait == 250


def test_limiter_keeps_refusing_a_client_that_hammers() -> None:
    clock = FakeClock()
    limiter = StreamOpenLimiter(open_limit=1, window=300, clock=clock)
    limiter.record_open("10.0.0.1")

    clock.now += 299
    limiter.record_open("10.0.0.1")
    clock.now += 2

    assert limiter.record_open("10.0.0.1") is not None


def test_limiter_forgets_opens_older_than_the_window() -> None:
    clock = FakeClock()
    limiter = StreamOpenLimiter(open_limit=1, window=300, clock=clock)
    limiter.record_open("10.0.0.1")

    clock.now += 301

    assert limiter.record_open("10.0.0.1") is None


def test_limiter_counts_each_ip_apart() -> None:
    limiter = StreamOpenLimiter(open_limit=1, window=300, clock=FakeClock())
    limiter.record_open("10.0.0.1")

    assert limiter.record_open("10.0.0.2") is None


async def test_stream_open_limit_answers_429(start_sim) -> None:
    sim = await start_sim(stream_open_limit=2)
    for _ in range(2):
        (await sim.client.get("/v1/devices/events", headers=sim.auth)).close()

    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert response.status == 429
    assert response.headers["Retry-After"] == "300"
    assert (await response.json())["error"] == "rate_limit_exceeded"


async def test_stream_open_limit_counts_failed_opens(start_sim) -> None:
    sim = await start_sim(stream_open_limit=1)
    (await sim.client.get("/v1/devices/events")).close()

    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert response.status == 429


async def test_open_stream_limit_answers_429(start_sim) -> None:
    sim = await start_sim(stream_concurrency_limit=1)
    await sim.open_stream("/v1/devices/events")

    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert response.status == 429
    assert "Retry-After" not in response.headers


async def test_open_stream_limit_frees_up_when_a_client_leaves(start_sim) -> None:
    sim = await start_sim(stream_concurrency_limit=1)
    first = await sim.open_stream("/v1/devices/events")

    first.close()
    await sim.wait_for_streams(0)
    second = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert second.status == 200
    second.close()
