"""`GET /healthz`: 200 when the broker and the database answer, else 503 naming
what is down. The database only counts as up at the newest schema revision, so a
dyno started before the release phase migrated says so instead of failing later.
"""

from __future__ import annotations

import functools
from pathlib import Path

from aiohttp import web
from alembic.script import ScriptDirectory

from .db import DATABASE_ERRORS, Database
from .link import ANSWER_SECONDS, Publisher
from .services import SERVICES_KEY

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATE_HINT = "run python -m shared.release"


@functools.cache
def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def database_state(database: Database) -> str:
    """`ok`, or a few words on what is wrong with the database."""
    try:
        revision = await database.schema_revision()
    except DATABASE_ERRORS as error:
        return f"unreachable ({type(error).__name__})"
    if revision != head_revision():
        return f"not migrated: at {revision}, need {head_revision()} ({MIGRATE_HINT})"
    return "ok"


async def broker_state(publisher: Publisher) -> str:
    if not publisher.connected:
        return "unreachable"
    if not await publisher.answers():
        return f"not answering within {ANSWER_SECONDS:.0f} s"
    return "ok"


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    checks = {
        "broker": await broker_state(services.publisher),
        "database": await database_state(services.database),
    }
    down = [name for name, state in checks.items() if state != "ok"]
    body: dict[str, object] = {"status": "down" if down else "ok", **checks}
    if down:
        body["down"] = down
    return web.json_response(body, status=503 if down else 200)
