"""`make run`: the whole product on one machine, from the Procfile.

Checks that RabbitMQ answers (starting one in Docker when it can), runs the release
phase, then runs the Procfile's worker and web with honcho. Without
PARTICLE_ACCESS_TOKEN it adds the local Particle Cloud simulator and points the
worker and web at it; with a token it talks to the real cloud and starts no
simulator.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))

from sim.settings import Settings as SimSettings  # noqa: E402

DEFAULT_BROKER_URL = "amqp://guest:guest@localhost:5672/"
DOCKER_CONTAINER = "particle-backbone-rabbitmq"
DOCKER_IMAGE = "rabbitmq:3.13-management-alpine"
HOW_TO_GET_RABBITMQ = """\
RabbitMQ is not answering at {where}, and Docker cannot start one here.
Start one, then run `make run` again:
  Debian/Ubuntu:  sudo apt-get install rabbitmq-server   (it starts on port 5672)
  macOS:          brew install rabbitmq && brew services start rabbitmq
  Docker:         docker run -d --name {container} -p 5672:5672 {image}
Or point RABBITMQ_URL (or CLOUDAMQP_URL) at a broker you already have."""


def broker_url(env: dict[str, str]) -> str:
    return env.get("CLOUDAMQP_URL") or env.get("RABBITMQ_URL") or DEFAULT_BROKER_URL


def answers(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    default_port = 5671 if parts.scheme == "amqps" else 5672
    try:
        address = (parts.hostname or "localhost", parts.port or default_port)
        with socket.create_connection(address, timeout):
            return True
    except OSError:
        return False


def docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False)
    return probe.returncode == 0


def ensure_broker(url: str) -> bool:
    """True once a broker answers at `url`; starts one in Docker if it can."""
    if answers(url):
        return True
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 5672
    if host not in ("localhost", "127.0.0.1") or not docker_works():
        print(
            HOW_TO_GET_RABBITMQ.format(
                where=f"{host}:{port}", container=DOCKER_CONTAINER, image=DOCKER_IMAGE
            ),
            file=sys.stderr,
        )
        return False
    print(f"make run: starting RabbitMQ in Docker ({DOCKER_IMAGE}) on port {port}")
    command = ["docker", "run", "-d", "--rm", "--name", DOCKER_CONTAINER]
    subprocess.run([*command, "-p", f"{port}:5672", DOCKER_IMAGE], check=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if answers(url):
            return True
        time.sleep(1)
    print("make run: RabbitMQ in Docker did not answer within 60 s", file=sys.stderr)
    return False


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ports_are_free(web_port: int, sim_port: int | None) -> bool:
    """Say which port is busy (another `make run`?) and how to pick another."""
    for port, variable in ((web_port, "PORT"), (sim_port, "SIM_PORT")):
        if port is not None and port_taken(port):
            print(
                f"make run: port {port} is already in use (another `make run`?). "
                f"Stop that, or choose another port: {variable}=... make run",
                file=sys.stderr,
            )
            return False
    return True


def stop_with_parent(honcho: subprocess.Popen[bytes]) -> None:
    """Stop everything when `make` goes away without a signal to our group
    (`kill <make's pid>`), instead of leaving the processes running."""
    parent = os.getppid()
    while honcho.poll() is None:
        if os.getppid() != parent:
            honcho.terminate()
            return
        time.sleep(1)


def point_at_simulator(env: dict[str, str]) -> SimSettings:
    sim = SimSettings.from_env(env)
    env["PARTICLE_API_URL"] = f"http://127.0.0.1:{sim.port}"
    env["PARTICLE_ACCESS_TOKEN"] = sim.access_token
    env.setdefault("PARTICLE_PRODUCT", str(sim.product_id))
    return sim


def procfile_entries(include_simulator: bool) -> str:
    """The Procfile's long-running entries, web first, plus the simulator if used.

    honcho hands out PORT as its base port plus 100 per entry, in order; web comes
    first so that it gets the port `make run` announces.
    """
    entries = {}
    for line in (CHECKOUT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() and name.strip() != "release":
            entries[name.strip()] = command.strip()
    if include_simulator:
        entries["sim"] = "python -m sim"
    ordered = sorted(entries.items(), key=lambda entry: entry[0] != "web")
    return "".join(f"{name}: {command}\n" for name, command in ordered)


def announce_when_up(web_url: str, sim_url: str | None) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{web_url}/healthz", timeout=2):
                break
        except OSError:
            time.sleep(1)
    lines = [f"  The timeline:   {web_url}/"]
    if sim_url:
        lines.append(f"  The simulator:  {sim_url}/sim/  (press buttons, watch LEDs)")
    bar = "=" * 64
    print(f"\n{bar}\n" + "\n".join(lines) + f"\n  Ctrl-C stops everything.\n{bar}\n")


def main() -> int:
    env = dict(os.environ)
    env["PATH"] = f"{CHECKOUT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("LOG_FORMAT", "console")
    if not ensure_broker(broker_url(env)):
        return 1

    use_simulator = not env.get("PARTICLE_ACCESS_TOKEN")
    sim = point_at_simulator(env) if use_simulator else None
    port = env.get("PORT", "5000")
    if not port.isdigit() or not ports_are_free(int(port), sim.port if sim else None):
        return 1
    release = subprocess.run(
        [sys.executable, "-m", "shared.release"], cwd=CHECKOUT, env=env, check=False
    )
    if release.returncode != 0:
        print("make run: the release phase failed (see above)", file=sys.stderr)
        return release.returncode

    sim_url = f"http://127.0.0.1:{sim.port}" if sim else None
    threading.Thread(
        target=announce_when_up, args=(f"http://localhost:{port}", sim_url), daemon=True
    ).start()
    with tempfile.NamedTemporaryFile("w", suffix=".Procfile", delete=False) as procfile:
        procfile.write(procfile_entries(use_simulator))
    honcho = [sys.executable, "-m", "honcho", "-f", procfile.name, "-d", str(CHECKOUT)]
    runner = subprocess.Popen([*honcho, "start", "--port", port], env=env)
    # SIGTERM to us stops honcho, which stops the processes it runs.
    signal.signal(signal.SIGTERM, lambda *_: runner.terminate())
    threading.Thread(target=stop_with_parent, args=(runner,), daemon=True).start()
    try:
        return runner.wait()
    except KeyboardInterrupt:
        return runner.wait()
    finally:
        os.unlink(procfile.name)


if __name__ == "__main__":
    sys.exit(main())
