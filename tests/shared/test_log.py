"""Logging: one JSON object per line, and no secret in any of them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from shared.log import configure_logging, get_logger

Lines = Callable[[], list[dict[str, object]]]


@pytest.fixture
def lines(capsys: pytest.CaptureFixture[str]) -> Lines:
    def read() -> list[dict[str, object]]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line]

    return read


def test_log_writes_json_lines_with_event_and_level(lines: Lines) -> None:
    configure_logging("info", "json")

    get_logger("worker.test").info("stream_connected", url="http://x")

    (entry,) = lines()
    assert entry["event"] == "stream_connected"
    assert entry["level"] == "info"
    assert entry["logger"] == "worker.test"


def test_log_masks_values_of_secret_keys(lines: Lines) -> None:
    configure_logging("info", "json")

    get_logger("t").info("x", access_token="abc", client_secret="def", password="p")

    (entry,) = lines()
    assert {entry["access_token"], entry["client_secret"], entry["password"]} == {
        "[redacted]"
    }


def test_log_scrubs_configured_secrets_from_any_text(lines: Lines) -> None:
    configure_logging("info", "json", secrets=["tok-98765"])

    try:
        raise RuntimeError("request with tok-98765 failed")
    except RuntimeError:
        get_logger("t").exception("call_failed", detail="sent tok-98765")

    text = json.dumps(lines())
    assert "tok-98765" not in text
    assert "[redacted]" in text


def test_log_routes_stdlib_loggers_through_the_same_renderer(lines: Lines) -> None:
    configure_logging("info", "json")

    logging.getLogger("aiohttp.client").warning(
        "retrying %s with Bearer abc.def", "http://u:pw@host/"
    )

    (entry,) = lines()
    assert entry["logger"] == "aiohttp.client"
    assert "abc.def" not in str(entry["event"])
    assert ":pw@" not in str(entry["event"])


def test_log_drops_records_below_the_level(lines: Lines) -> None:
    configure_logging("warning", "json")

    get_logger("t").info("quiet")
    get_logger("t").warning("loud")

    assert [entry["event"] for entry in lines()] == ["loud"]
