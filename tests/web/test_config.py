"""The web-only variables: defaults, parsing, and one clear error per bad value."""

from __future__ import annotations

import pytest

from shared.settings import SettingsError
from web.config import WebConfig


def test_config_defaults_without_variables() -> None:
    assert WebConfig.from_env({}) == WebConfig()


def test_config_reads_retry_delays_as_seconds() -> None:
    config = WebConfig.from_env({"WEB_CALL_RETRY_DELAYS": "0.5, 2,10"})

    assert config.call_retry_delays == (0.5, 2.0, 10.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEB_RETRY_DELAYS", "1,,2"),
        ("WEB_RETRY_DELAYS", "1e12"),
        ("WEB_PREFETCH", "²"),
        ("WEB_CALL_RETRY_DELAYS", "-1"),
        ("WEB_SSE_KEEPALIVE", "nan"),
        ("WEB_PREFETCH", "0"),
        ("WEB_CALL_CONCURRENCY", "many"),
    ],
)
def test_config_names_the_malformed_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        WebConfig.from_env({name: value})
