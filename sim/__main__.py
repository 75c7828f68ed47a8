"""`python -m sim`: serve the simulated Particle Cloud until SIGINT or SIGTERM.

The socket is bound before anything else, so `SIM_PORT=0` works (the kernel picks
a free port and the printed URL names it) and the one start line is printed only
once the simulator really listens. That line carries the URL and the access token;
logs never do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import socket
import sys

from aiohttp import web

from shared.log import configure_logging, get_logger
from sim.app import create_app
from sim.settings import Settings, SettingsError

SHUTDOWN_TIMEOUT = 5.0

log = get_logger("sim.main")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(128)
    listener.setblocking(False)
    return listener


async def serve(settings: Settings, listener: socket.socket) -> None:
    # Handlers first: a SIGTERM right after the start line must still stop cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    await web.SockSite(runner, listener).start()

    print(
        f"Particle Cloud simulator listening on {settings.base_url}"
        f" with access token {settings.access_token}",
        flush=True,
    )
    log.info("simulator_started", url=settings.base_url, devices=settings.devices)

    await stop.wait()

    log.info("simulator_stopping")
    await runner.cleanup()


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"sim: {error}", file=sys.stderr)
        return 2

    configure_logging(
        settings.log_level,
        settings.log_format,
        secrets=(settings.access_token, settings.client_secret, settings.password),
    )
    try:
        listener = _bind(settings.host, settings.port)
    except OSError as error:
        print(
            f"sim: cannot listen on {settings.host}:{settings.port}: {error}",
            file=sys.stderr,
        )
        return 1

    # With SIM_PORT=0 the kernel chose the port; links must name the real one.
    settings = dataclasses.replace(settings, port=listener.getsockname()[1])
    asyncio.run(serve(settings, listener))
    return 0


if __name__ == "__main__":
    sys.exit(main())
