"""Settings from the environment: defaults, parsing, errors naming the variable."""

from __future__ import annotations

import pytest

from shared.settings import Settings, SettingsError


def test_settings_defaults_follow_the_contract() -> None:
    settings = Settings.from_env({})

    assert settings.particle_api_url == "https://api.particle.io"
    assert settings.events_exchange == "particle.events"
    assert settings.stream_idle_timeout == 30
    assert settings.broker_url == "amqp://guest:guest@localhost:5672/"
    assert settings.database_url.startswith("sqlite:///")
    assert (settings.port, settings.feed_event, settings.like_function) == (
        5000,
        "photo",
        "rainbow",
    )


def test_settings_prefer_cloudamqp_url_over_rabbitmq_url() -> None:
    env = {"CLOUDAMQP_URL": "amqps://u:p@cloud/v", "RABBITMQ_URL": "amqp://local/"}

    assert Settings.from_env(env).broker_url == "amqps://u:p@cloud/v"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARTICLE_STREAM_IDLE_TIMEOUT", "soon"),
        ("PARTICLE_STREAM_IDLE_TIMEOUT", "-1"),
        ("PARTICLE_STREAM_IDLE_TIMEOUT", "nan"),
        ("PARTICLE_API_URL", "ftp://example"),
        ("PARTICLE_API_URL", "http://127.0.0.1:notaport"),
        ("PARTICLE_API_URL", "http://127.0.0.1:99999"),
        ("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:99999/"),
        ("WORKER_BUFFER_SIZE", "²"),
        ("PORT", "٥٠٠٠"),
        ("RABBITMQ_URL", "http://broker"),
        ("DATABASE_URL", "mysql://db"),
        ("PORT", "70000"),
        ("PORT", "http"),
        ("LOG_LEVEL", "loud"),
        ("LOG_FORMAT", "xml"),
        ("WORKER_BUFFER_SIZE", "0"),
    ],
)
def test_settings_error_names_the_malformed_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_settings_error_never_echoes_a_database_password() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"DATABASE_URL": "mysql://user:hunter2@db/app"})

    assert "hunter2" not in str(raised.value)


def test_settings_require_access_token_names_it() -> None:
    with pytest.raises(SettingsError, match="PARTICLE_ACCESS_TOKEN"):
        Settings.from_env({}).require_access_token()


def test_settings_treat_empty_values_as_unset() -> None:
    settings = Settings.from_env({"PARTICLE_PRODUCT": "", "PARTICLE_EXCHANGE": " "})

    assert settings.particle_product is None
    assert settings.events_exchange == "particle.events"


def test_settings_list_every_configured_secret() -> None:
    env = {
        "PARTICLE_ACCESS_TOKEN": "tok-123",
        "WEBHOOK_SECRET": "hook-456",
        "RABBITMQ_URL": "amqp://user:brokerpw@host/",
        "DATABASE_URL": "postgres://app:dbpw@db/app",
    }

    secrets = Settings.from_env(env).secrets()

    assert set(secrets) == {"tok-123", "hook-456", "brokerpw", "dbpw"}
    assert "tok-123" not in repr(Settings.from_env(env))
