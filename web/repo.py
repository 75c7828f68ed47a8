"""Reading and writing the timeline: every effect a message or a request has.

Writes are idempotent where a message can come twice: a post is keyed by its event
id, and a device status only moves forward in Particle's `published_at`. Each
method is one transaction; when it returns, the effect is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Insert, Row, Select, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from shared.events import ParticleEvent

from .db import Database
from .models import CALL_PENDING, CALL_QUEUED, Call, Device, Post, utcnow
from .views import PostView

NAME_CACHE_LIMIT = 10_000
CALLS = Call.metadata.tables["calls"]
POSTS = Post.metadata.tables["posts"]


@dataclass(frozen=True)
class Like:
    likes: int
    call: Call


class Repository:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._dialect = database.engine.dialect.name
        # Device names this process stored or read: names change rarely, and only
        # through Particle, so a repeated name needs no query.
        self._names: dict[str, str] = {}

    async def add_post(self, event: ParticleEvent) -> PostView | None:
        """Store the event as a post; the new post with its device, or None if the
        event was stored before.

        The view comes from the transaction's own rows (the insert's RETURNING and
        the device read before it), so announcing it needs no second session.
        """
        async with self._database.session() as session, session.begin():
            device = await self._device_for_post(session, event.coreid)
            statement = (
                self._insert(Post)
                .values(
                    event_id=event.event_id,
                    event_name=event.name,
                    device_id=event.coreid,
                    data=event.data,
                    published_at=event.published_at,
                    received_at=utcnow(),
                    likes=0,
                )
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(Post)
            )
            post = (await session.scalars(statement)).one_or_none()
        return None if post is None else PostView(post, device, [])

    async def set_device_online(
        self, device_id: str, online: bool, published_at: str
    ) -> Device | None:
        """Apply a status event; the device, or None when a newer one was applied.

        ISO-8601 instants in Particle's one format compare correctly as text.
        """
        async with self._database.session() as session, session.begin():
            insert = self._insert(Device).values(
                device_id=device_id,
                online=online,
                status_published_at=published_at,
                updated_at=utcnow(),
            )
            newer: ColumnElement[bool] = or_(
                Device.status_published_at.is_(None),
                Device.status_published_at <= insert.excluded.status_published_at,
            )
            statement = insert.on_conflict_do_update(
                index_elements=["device_id"],
                set_={
                    "online": insert.excluded.online,
                    "status_published_at": insert.excluded.status_published_at,
                    "updated_at": insert.excluded.updated_at,
                },
                where=newer,
            ).returning(Device)
            return (await session.execute(statement)).scalar_one_or_none()

    async def set_device_name(self, device_id: str, name: str) -> Device | None:
        """Remember a device's name; the device, or None when the name was known.

        Every successful call brings the name, so a name this process already
        stored or read is skipped without a query; otherwise one UPDATE that
        changes only a different name.
        """
        if self._names.get(device_id) == name:
            return None
        async with self._database.session() as session, session.begin():
            statement = (
                update(Device)
                .where(Device.device_id == device_id)
                .where(or_(Device.name.is_(None), Device.name != name))
                .values(name=name, updated_at=utcnow())
                .returning(Device)
            )
            device = (await session.scalars(statement)).one_or_none()
        self._remember_name(device_id, name)
        return device

    async def set_device_facts(
        self, device_id: str, name: str | None, online: bool | None
    ) -> Device | None:
        """Remember what Particle's API said; the device, or None if nothing changed.

        The online state is taken only while no `spark/status` event has been
        applied: a status event is timestamped, a look-up is not.
        """
        async with self._database.session() as session, session.begin():
            device = await session.get(Device, device_id)
            if device is None:
                return None
            changed = False
            if name is not None and device.name != name:
                device.name, changed = name, True
            if online is not None and device.status_published_at is None:
                changed = changed or device.online != online
                device.online = online
            if changed:
                device.updated_at = utcnow()
        if device.name is not None:
            self._remember_name(device_id, device.name)
        return device if changed else None

    async def list_posts(self, limit: int, before: int | None = None) -> list[PostView]:
        """Newest first: the `limit` posts with an id below `before`, if given."""
        query = _post_query().order_by(Post.id.desc()).limit(limit)
        if before is not None:
            query = query.where(Post.id < before)
        async with self._database.session() as session:
            rows = (await session.execute(query)).all()
            calls = await _calls_of(session, [post.id for post, _ in rows])
        return [PostView(post, device, calls.get(post.id, [])) for post, device in rows]

    async def get_post(self, post_id: int) -> PostView | None:
        async with self._database.session() as session:
            query = _post_query().where(Post.id == post_id)
            row = (await session.execute(query)).one_or_none()
            if row is None:
                return None
            calls = await _calls_of(session, [post_id])
        return PostView(row[0], row[1], calls.get(post_id, []))

    async def add_like(self, post_id: int, function: str) -> Like | None:
        """Count one like and store its pending call; None if there is no such post.

        Core statements in one transaction: the ORM's unit of work cost more
        CPU than the two statements, in the event loop the calls share.
        """
        async with self._database.engine.begin() as connection:
            statement = (
                update(POSTS)
                .where(POSTS.c.id == post_id)
                .values(likes=POSTS.c.likes + 1)
                .returning(POSTS.c.likes, POSTS.c.device_id)
            )
            row = (await connection.execute(statement)).one_or_none()
            if row is None:
                return None
            likes, device_id = row
            insert = (
                CALLS.insert()
                .values(
                    post_id=post_id,
                    device_id=device_id,
                    function=function,
                    argument=str(post_id),
                    state=CALL_PENDING,
                    attempts=0,
                )
                .returning(*CALLS.c)
            )
            call = _call_of((await connection.execute(insert)).one())
        return Like(likes=likes, call=call)

    async def mark_calls_queued(self, call_ids: Sequence[int]) -> None:
        """Pending → queued; a call already further along is left as it is.

        One UPDATE, in autocommit (a single statement is atomic).
        """
        if not call_ids:
            return
        async with self._database.autocommit() as connection:
            await connection.execute(
                update(CALLS)
                .where(CALLS.c.id.in_(call_ids), CALLS.c.state == CALL_PENDING)
                .values(state=CALL_QUEUED, updated_at=utcnow())
            )

    async def pending_calls(self, older_than_seconds: float) -> list[int]:
        """Calls stored but never confirmed on the queue (the broker was away)."""
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        async with self._database.session() as session:
            ids = await session.scalars(
                select(Call.id)
                .where(Call.state == CALL_PENDING, Call.created_at <= cutoff)
                .order_by(Call.id)
            )
            return list(ids)

    async def get_call(self, call_id: int) -> Call | None:
        """One SELECT, in no transaction of its own (the calls handler's hot path)."""
        async with self._database.autocommit() as connection:
            statement = select(CALLS).where(CALLS.c.id == call_id)
            row = (await connection.execute(statement)).one_or_none()
        return None if row is None else _call_of(row)

    async def record_call(self, call_id: int, **outcome: Any) -> Call:
        """Store the outcome of one try (state, attempts, return_value, error).

        One UPDATE … RETURNING in autocommit: stored once it returns, as a single
        statement is atomic; the session and its BEGIN and COMMIT are not needed.
        """
        async with self._database.autocommit() as connection:
            statement = (
                update(CALLS)
                .where(CALLS.c.id == call_id)
                .values(**outcome, updated_at=utcnow())
                .returning(*CALLS.c)
            )
            return _call_of((await connection.execute(statement)).one())

    def _insert(self, table: type[Any]) -> Any:
        # Both dialects spell ON CONFLICT the same way; only the import differs.
        insert: Insert = (
            postgresql.insert(table)
            if self._dialect == "postgresql"
            else sqlite.insert(table)
        )
        return insert

    async def _device_for_post(self, session: AsyncSession, device_id: str) -> Device:
        """The posting device, stored first if new: a known device costs one read."""
        device = await session.get(Device, device_id)
        if device is not None:
            return device
        statement = (
            self._insert(Device)
            .values(device_id=device_id, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["device_id"])
            .returning(Device)
        )
        inserted: Device | None = (await session.scalars(statement)).one_or_none()
        # None: another transaction stored it between the read and the insert.
        if inserted is None:
            return await session.get_one(Device, device_id)
        return inserted

    def _remember_name(self, device_id: str, name: str) -> None:
        if len(self._names) >= NAME_CACHE_LIMIT:
            self._names.clear()
        self._names[device_id] = name


def _call_of(row: Row[Any]) -> Call:
    """A call read with Core, as the (detached) object the ORM would have made."""
    return Call(**row._mapping)


def _post_query() -> Select[Post, Device]:
    return select(Post, Device).join(Device, Post.device_id == Device.device_id)


async def _calls_of(
    session: AsyncSession, post_ids: Sequence[int]
) -> dict[int, list[Call]]:
    if not post_ids:
        return {}
    calls = await session.scalars(
        select(Call).where(Call.post_id.in_(post_ids)).order_by(Call.id)
    )
    by_post: dict[int, list[Call]] = {}
    for call in calls:
        by_post.setdefault(call.post_id, []).append(call)
    return by_post
