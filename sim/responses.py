"""JSON answers serialised as Particle's Node servers write them: compact, UTF-8."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

compact_dumps = functools.partial(json.dumps, separators=(",", ":"), ensure_ascii=False)


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=compact_dumps)
