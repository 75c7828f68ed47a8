"""The soak: its comparison, and a compressed run of it.

`python -m bench.soak --minutes 10` is the real run (docs/soak.md). The slow test
here runs it for 45 s with a fault every few seconds, so the claim stays checked on
every full test run: every event the simulator wrote in full to the worker's stream
reached RabbitMQ, nothing else did, and the worker stopped cleanly on SIGTERM.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bench import soak


def test_compare_counts_missing_duplicates_and_unexpected() -> None:
    journal = soak.Journal(counts=Counter({"a": 1, "b": 1, "c": 1}))
    received = soak.Received(counts=Counter({"a": 2, "b": 1, "x": 1}), without_id=1)

    counts = soak.compare(journal, received)

    assert counts["missing"] == 1  # c
    assert counts["duplicates"] == 1  # the second a
    assert counts["unexpected"] == 2  # x, and the message with no id
    assert counts["received"] == 5


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_worker_publishes_every_event_the_simulator_sent(
    rabbitmq_url: str,
) -> None:
    options = soak.Options(minutes=0.75, gap=(2.0, 4.0), broker_url=rabbitmq_url)

    summary = await soak.run(options)

    print(soak.report(summary))
    assert summary["events_sent"] > 1000
    assert summary["faults_total"] >= 3
    assert summary["missing"] == 0
    assert summary["unexpected"] == 0
    assert summary["journal_gap"] == 0
    assert summary["worker_exit_code"] == 0
