"""SIM_* variables: defaults, parsing, and one clear error per malformed one."""

from __future__ import annotations

import pytest

from sim.settings import DEFAULT_ACCESS_TOKEN, Settings, SettingsError


def test_settings_defaults_match_the_contract() -> None:
    settings = Settings.from_env({})

    assert (settings.host, settings.port) == ("127.0.0.1", 8181)
    assert settings.access_token == DEFAULT_ACCESS_TOKEN
    assert (settings.product_id, settings.devices) == (1234, 5)
    assert (settings.press_interval, settings.keepalive) == (20.0, 10.0)
    assert (settings.stream_open_limit, settings.stream_concurrency_limit) == (100, 100)


def test_settings_read_every_variable() -> None:
    settings = Settings.from_env(
        {
            "SIM_PORT": "9000",
            "SIM_ACCESS_TOKEN": "abcdef0123456789",
            "SIM_PRODUCT": "42",
            "SIM_PRODUCT_SLUG": "my-product",
            "SIM_CLIENT_ID": "my-client",
            "SIM_DEVICES": "12",
            "SIM_SEED": "7",
            "SIM_PRESS_INTERVAL": "0",
            "SIM_KEEPALIVE": "0.5",
            "SIM_STREAM_OPEN_LIMIT": "3",
        }
    )

    assert settings.port == 9000
    assert (settings.product_id, settings.product_slug) == (42, "my-product")
    assert (settings.devices, settings.seed, settings.press_interval) == (12, "7", 0.0)
    assert (settings.keepalive, settings.stream_open_limit) == (0.5, 3)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SIM_PORT", "eighty"),
        ("SIM_PORT", "70000"),
        ("SIM_DEVICES", "-1"),
        ("SIM_PRESS_INTERVAL", "soon"),
        ("SIM_KEEPALIVE", "0"),
        ("SIM_PRODUCT", "0"),
        ("SIM_PRODUCT_SLUG", "Not A Slug"),
        ("SIM_CLIENT_ID", "x"),
        ("SIM_ACCESS_TOKEN", "short"),
        ("SIM_PUBLIC_URL", "ftp://host"),
        ("SIM_STREAM_CONCURRENCY_LIMIT", "0"),
        ("LOG_LEVEL", "loud"),
    ],
)
def test_settings_malformed_variable_is_named(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        Settings.from_env({key: value})


def test_settings_never_echo_a_malformed_token() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"SIM_ACCESS_TOKEN": "has space inside"})

    assert "has space" not in str(raised.value)


def test_settings_base_url_replaces_wildcard_host() -> None:
    settings = Settings(host="0.0.0.0", port=8181)

    assert settings.base_url == "http://127.0.0.1:8181"


def test_settings_public_url_wins() -> None:
    settings = Settings(public_url="http://sim.local:80/")

    assert settings.base_url == "http://sim.local:80"


def test_settings_repr_hides_secrets() -> None:
    assert DEFAULT_ACCESS_TOKEN not in repr(Settings())
