"""The tables: posts, the devices that post them, and the calls their likes cause.

Alembic owns the schema (`migrations/`); these classes must match its newest
revision, and `tests/web/test_db.py` checks that they do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CALL_PENDING = "pending"  # stored, not yet confirmed on the calls queue
CALL_QUEUED = "queued"
CALL_RETRYING = "retrying"  # the last try failed transiently; another is scheduled
CALL_SUCCEEDED = "succeeded"
CALL_FAILED = "failed"
FINISHED_CALL_STATES = frozenset({CALL_SUCCEEDED, CALL_FAILED})


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, stored naive: SQLite keeps no time zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Device(Base):
    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # None until a spark/status event says; a post alone proves nothing lasting.
    online: Mapped[bool | None]
    # Particle's published_at of the status event applied, to skip older ones.
    status_published_at: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The unique event id is what makes a redelivered event a no-op.
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_name: Mapped[str] = mapped_column(String(200))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"), index=True)
    data: Mapped[str] = mapped_column(Text)
    # Kept as Particle wrote it (ISO-8601 with a Z), so the API echoes it unchanged.
    published_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    likes: Mapped[int] = mapped_column(default=0)


class Call(Base):
    """One like's call of the device function, and what came of it."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    function: Mapped[str] = mapped_column(String(64))
    argument: Mapped[str] = mapped_column(String(622))
    state: Mapped[str] = mapped_column(String(16), default=CALL_PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    return_value: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
