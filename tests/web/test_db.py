"""The database: URL mapping, migrations that match the models on SQLite and
PostgreSQL, and writes that stay idempotent under redelivery."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from tests.web.conftest import make_event
from web.db import Database, async_url
from web.health import database_state
from web.models import Base
from web.repo import Repository


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://u:p@db.example:5432/app",
            "postgresql+asyncpg://u:p@db.example:5432/app",
        ),
        ("postgresql://u@h/app", "postgresql+asyncpg://u@h/app"),
        (
            "postgresql://u@h/app?sslmode=require",
            "postgresql+asyncpg://u@h/app?ssl=require",
        ),
        ("sqlite:///var/app.sqlite3", "sqlite+aiosqlite:///var/app.sqlite3"),
    ],
)
def test_async_url_maps_heroku_and_libpq_urls(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


async def test_migrations_match_the_models(any_database: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with any_database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_migrated_database_is_healthy(any_database: Database) -> None:
    assert await database_state(any_database) == "ok"


async def test_repo_stores_an_event_once(any_database: Database) -> None:
    repo, event = Repository(any_database), make_event()

    first, again = await repo.add_post(event), await repo.add_post(event)

    assert first is not None
    assert again is None
    assert [view.post.event_id for view in await repo.list_posts(10)] == [
        event.event_id
    ]


async def test_repo_applies_only_newer_status(any_database: Database) -> None:
    repo = Repository(any_database)
    await repo.add_post(make_event())

    newer = await repo.set_device_online(
        make_event().coreid, False, "2025-02-01T00:00:00.000Z"
    )
    older = await repo.set_device_online(
        make_event().coreid, True, "2025-01-01T00:00:00.000Z"
    )

    assert newer is not None
    assert newer.online is False
    assert older is None


async def test_repo_counts_likes_on_both_databases(any_database: Database) -> None:
    repo = Repository(any_database)
    post_id = await repo.add_post(make_event())
    assert post_id is not None

    likes = [await repo.add_like(post_id, "rainbow") for _ in range(2)]

    assert [like.likes for like in likes if like] == [1, 2]
    assert await repo.add_like(post_id + 1000, "rainbow") is None
