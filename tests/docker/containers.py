"""The built ncm image, run with the real Docker engine against the servers on this machine."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ncm_core.testing import in_ci

ROOT = Path(__file__).resolve().parents[2]
DOCKER = "/usr/bin/docker"  # the 20.10 client, which builds with BuildKit without buildx
BUILD_SCRIPT = ROOT / "scripts" / "docker-image.sh"
IMAGE = "ncm-migration:latest"
POSTGRES_ONLY_IMAGE = "ncm-migration:postgres"
CONTAINER_UID = 10001


def docker(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False)


def build_images() -> None:
    """Builds both images from this checkout (seconds when the layers are cached), so that the
    tests never run an image older than the code. No engine: a skip outside CI, a failure in it."""
    if not Path(DOCKER).exists() or docker("info", timeout=30).returncode != 0:
        message = "no Docker engine answers (bash scripts/docker-image.sh starts one and builds the image)"
        pytest.fail(message + "; CI must start it") if in_ci() else pytest.skip(message)
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@dataclass
class Project:
    """A migrations folder and a backups folder as a user mounts them into the container."""

    root: Path
    migrations: Path = field(init=False)
    backups: Path = field(init=False)

    def __post_init__(self) -> None:
        self.migrations = self.root / "migrations"
        self.backups = self.root / "backups"
        self.migrations.mkdir(mode=0o755)
        self.backups.mkdir()
        os.chown(self.backups, CONTAINER_UID, CONTAINER_UID)

    def add(self, name: str, text: str) -> None:
        path = self.migrations / name
        path.write_text(text)
        path.chmod(0o644)

    def run_args(self, *args: str, env: dict[str, str], image: str = IMAGE, name: str | None = None,
                 detach: bool = False, rm: bool = True) -> list[str]:
        options = ["run", "--network", "host"]
        options += ["--rm"] if rm else []
        options += ["--detach"] if detach else []
        options += ["--name", name] if name else []
        for key, value in env.items():
            options += ["-e", f"{key}={value}"]
        options += ["-v", f"{self.migrations}:/app/migrations", "-v", f"{self.backups}:/app/backups"]
        return [*options, image, *args]

    def run(self, *args: str, image: str = IMAGE, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
        return docker(*self.run_args(*args, env=env, image=image), timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LateProxy(threading.Thread):
    """Forwards a port to a server, but only starts listening ``delay`` seconds in: a database
    that comes up after the container."""

    def __init__(self, port: int, target: tuple[str, int], delay: float) -> None:
        super().__init__(daemon=True)
        self.port, self.target, self.delay = port, target, delay

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        await asyncio.sleep(self.delay)
        server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        async with server:
            await server.serve_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer), return_exceptions=True)
