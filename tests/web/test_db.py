"""The database: URL mapping, migrations that match the models on SQLite and
PostgreSQL, and writes that stay idempotent under redelivery."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from tests.web.conftest import make_event, postgres_url
from web.db import POOL_OVERFLOW, POOL_SIZE, Database, async_url, create_engine
from web.health import database_state
from web.models import CALL_PENDING, CALL_QUEUED, CALL_SUCCEEDED, Base, Call
from web.repo import Repository
from web.views import call_json


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
    stored = await repo.add_post(make_event())
    assert stored is not None
    post_id = stored.post.id

    likes = [await repo.add_like(post_id, "rainbow") for _ in range(2)]

    assert [like.likes for like in likes if like] == [1, 2]
    assert await repo.add_like(post_id + 1000, "rainbow") is None


async def test_repo_returns_the_new_post_with_its_device(
    any_database: Database,
) -> None:
    """The live announcement is built from this, with no second read."""
    repo, event = Repository(any_database), make_event()

    first = await repo.add_post(event)
    second = await repo.add_post(make_event())

    assert first is not None
    assert second is not None
    assert first.post.event_id == event.event_id
    assert first.device.device_id == event.coreid
    assert first.as_json() == (await repo.get_post(first.post.id) or first).as_json()
    assert second.post.id > first.post.id  # the device known now, stored once


async def test_repo_skips_a_device_name_it_already_stored(
    any_database: Database,
) -> None:
    repo, event = Repository(any_database), make_event()
    await repo.add_post(event)

    named = await repo.set_device_name(event.coreid, "lamp")
    again = await repo.set_device_name(event.coreid, "lamp")
    renamed = await repo.set_device_name(event.coreid, "desk lamp")

    assert named is not None
    assert named.name == "lamp"
    assert again is None
    assert renamed is not None
    assert renamed.name == "desk lamp"
    assert (
        await Repository(any_database).set_device_name(event.coreid, "desk lamp")
        is None
    )


async def test_repo_marks_only_pending_calls_queued(any_database: Database) -> None:
    repo = Repository(any_database)
    stored = await repo.add_post(make_event())
    assert stored is not None
    first, second = [await repo.add_like(stored.post.id, "rainbow") for _ in range(2)]
    assert first is not None
    assert second is not None
    await repo.record_call(second.call.id, state=CALL_SUCCEEDED, attempts=1)

    await repo.mark_calls_queued([first.call.id, second.call.id])

    states = {
        call.id: call.state for call in await _calls(repo, [first.call, second.call])
    }
    assert states == {first.call.id: CALL_QUEUED, second.call.id: CALL_SUCCEEDED}
    assert CALL_PENDING not in states.values()


async def _calls(repo: Repository, calls: list[Call]) -> list[Call]:
    found = [await repo.get_call(call.id) for call in calls]
    return [call for call in found if call is not None]


async def test_connection_closed_by_the_server_while_idle_is_replaced() -> None:
    """No ping on every check-out, but an idle connection the server dropped (an
    idle timeout, a restart) is pinged and replaced before it is used."""
    database = Database.from_url(postgres_url(), ping_idle_after=0.05)
    admin = create_engine(postgres_url())
    try:
        async with database.session() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()
        async with admin.begin() as connection:
            await connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
            )
        await asyncio.sleep(0.1)

        async with database.session() as session:
            again = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()

        assert again != pid
    finally:
        await database.close()
        await admin.dispose()


async def test_repo_calls_read_and_written_in_autocommit_are_stored(
    any_database: Database,
) -> None:
    """A like's call and each outcome are committed once the method returns (seen
    by another engine at once), and come back as the ORM would read them."""
    repo = Repository(any_database)
    stored = await repo.add_post(make_event())
    assert stored is not None
    like = await repo.add_like(stored.post.id, "rainbow")
    assert like is not None
    assert (like.call.state, like.call.attempts, like.call.argument) == (
        CALL_PENDING,
        0,
        str(stored.post.id),
    )

    outcome = await repo.record_call(
        like.call.id, state=CALL_SUCCEEDED, attempts=2, return_value=1, error=None
    )

    other = Database(any_database.engine.execution_options())
    async with other.session() as session:
        seen = await session.get_one(Call, like.call.id)
    read = await repo.get_call(like.call.id)
    assert read is not None
    assert call_json(outcome) == call_json(seen) == call_json(read)
    assert (seen.state, seen.attempts, seen.return_value) == (CALL_SUCCEEDED, 2, 1)
    assert outcome.updated_at.tzinfo is UTC
    assert like.call.created_at.tzinfo is UTC
    assert await repo.get_call(like.call.id + 1000) is None


async def test_a_connection_lent_in_autocommit_has_transactions_again() -> None:
    """`autocommit` shares the pool: the connection it returns must not leave a
    later session without its transaction (a failed session still rolls back)."""
    database = Database.from_url(postgres_url())
    table = f"web_test_{uuid.uuid4().hex[:12]}"
    try:
        async with database.autocommit() as connection:
            lent = (
                await connection.execute(text("SELECT pg_backend_pid()"))
            ).scalar_one()
            await connection.execute(text(f'CREATE TEMP TABLE "{table}" (n int)'))
        pids: list[int] = []

        async def fail_after_a_write() -> None:
            async with database.session() as session, session.begin():
                pid = await session.execute(text("SELECT pg_backend_pid()"))
                pids.append(pid.scalar_one())
                await session.execute(text(f'INSERT INTO "{table}" VALUES (1)'))
                raise RuntimeError("fails after its write")

        with pytest.raises(RuntimeError):
            await fail_after_a_write()
        async with database.session() as session:
            rows = (await session.execute(text(f'SELECT n FROM "{table}"'))).all()

        assert pids == [lent]  # the same pooled connection
        assert rows == []
    finally:
        await database.close()


def test_pool_keeps_what_likes_and_calls_use_without_asking_for_more() -> None:
    engine = create_engine(postgres_url())
    try:
        assert (engine.pool.size(), engine.pool.overflow()) == (POOL_SIZE, -POOL_SIZE)  # type: ignore[attr-defined]
        assert POOL_SIZE + POOL_OVERFLOW == 15  # SQLAlchemy's default total
    finally:
        asyncio.run(engine.dispose())
