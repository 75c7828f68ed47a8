"""`make bench`: run the benchmarks and write docs/benchmarks.md with its plots.

Every figure is reported next to a baseline measured in the same run, because these
machines are shared and an absolute number from one day says little about another.
Options: `--events N` scales the memory run (default one million), `--quick` runs
everything small, for checking the harness itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
from datetime import UTC, datetime

from . import latency, memory, plots, throughput, web_plots, web_suite
from .harness import CHECKOUT
from .latency import percentile

DOCS = CHECKOUT / "docs"
PLOTS = DOCS / "benchmarks"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    return parser.parse_args()


async def run(args: argparse.Namespace) -> str:
    url = os.environ.get("RABBITMQ_URL", DEFAULT_BROKER_URL)
    burst, rounds, steady = (5_000, 1, 2_000) if args.quick else (50_000, 3, 10_000)
    memory_events = 20_000 if args.quick else args.events

    print(f"bench: throughput, {rounds} rounds of {burst} events")
    rates = await throughput.measure(url, burst, rounds)
    print(f"bench: latency, {steady} events at 1,000/s")
    delays = await latency.measure(url, 1000.0, steady)
    memory_rate = min(3000.0, 0.6 * statistics.median(rates.worker))
    print(f"bench: memory, {memory_events} events at {memory_rate:.0f}/s")
    profile = await memory.measure(url, memory_events, memory_rate)
    web = await web_suite.measure(url, args.quick)

    plots.throughput_bars(PLOTS / "throughput.png", rates.worker, rates.baseline)
    plots.latency_cdf(PLOTS / "latency.png", delays.worker_ms, delays.baseline_ms)
    plots.memory_line(PLOTS / "memory.png", profile.samples)
    web_plots.web_bars(PLOTS / "web.png", web.posts, web.likes)
    return report(rates, delays, profile) + web_suite.section(web)


def report(
    rates: throughput.Throughput,
    delays: latency.Latencies,
    profile: memory.MemoryProfile,
) -> str:
    worker_rate = statistics.median(rates.worker)
    baseline_rate = statistics.median(rates.baseline)
    w50, w99 = (percentile(delays.worker_ms, q) for q in (50, 99))
    b50, b99 = (percentile(delays.baseline_ms, q) for q in (50, 99))
    mib = 2**20
    return f"""# Benchmarks

Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {os.cpu_count()}
cores, Python {platform.python_version()}, RabbitMQ on the same machine. Each figure
stands next to a baseline measured in the same run, so read the ratios; the absolute
numbers move with whatever else the machine is doing.

## Worker throughput

A local SSE server writes events as fast as the connection takes them; the worker
parses each one and publishes it persistent with publisher confirms. The baseline is
a plain aio-pika publisher pushing the same messages, already built, with confirms
and the same window of 256 in flight. Rounds alternate the two.

| | median msg/s | rounds |
| --- | ---: | --- |
| plain aio-pika publisher (baseline) | {baseline_rate:,.0f} | {_list(rates.baseline)} |
| worker, SSE in, confirmed out | {worker_rate:,.0f} | {_list(rates.worker)} |
| **ratio worker / baseline** | **{rates.ratio:.2f}** | |

![throughput](benchmarks/throughput.png)

## End-to-end latency

{len(delays.worker_ms):,} events at 1,000 events/s, from the moment the SSE server
writes an event to the moment a consumer of the events exchange receives it. The
baseline publishes the same messages at the same rate straight to the exchange.

| | p50 ms | p99 ms |
| --- | ---: | ---: |
| plain aio-pika publisher (baseline) | {b50:.2f} | {b99:.2f} |
| worker | {w50:.2f} | {w99:.2f} |
| **ratio worker / baseline** | **{w50 / b50:.2f}** | **{w99 / b99:.2f}** |

![latency](benchmarks/latency.png)

## Worker memory

{profile.events:,} events at {profile.rate:,.0f} events/s through one worker process,
its resident set sampled every second. The baseline is the worker's own resident set
once warmed up (after the first 2 % of events).

| | MiB |
| --- | ---: |
| warmed-up RSS (baseline) | {profile.warm_rss / mib:.1f} |
| peak RSS over the run | {profile.peak_rss / mib:.1f} |
| **ratio peak / warmed-up** | **{profile.peak_rss / profile.warm_rss:.2f}** |

![memory](benchmarks/memory.png)
"""


def _list(values: list[float]) -> str:
    return ", ".join(f"{value:,.0f}" for value in values)


def main() -> None:
    # Deleting a scratch queue cancels its consumer, which aiormq reports as a warning.
    logging.basicConfig(level=logging.ERROR)
    args = parse_args()
    text = asyncio.run(run(args))
    (DOCS / "benchmarks.md").write_text(text)
    print(f"bench: wrote {DOCS / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
