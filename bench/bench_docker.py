"""The migration image: size per plugin set, build time cold and cached, and the time from
`docker run` to the first migration applied, against `ncm run` on the host and against the
same CREATE TABLE sent by `psql` from the same image, in one run.

    python bench/bench_docker.py        (needs the engine: bash scripts/docker-image.sh)

Set NCM_TEST_POSTGRES_URL (scripts/test's default is used otherwise). Each round migrates a
fresh PostgreSQL database; prints the best of ROUNDS and the ratios.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKER = "/usr/bin/docker"
SERVER = os.environ.get("NCM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
ROUNDS = 3
MIGRATION = '''"""Create users."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
'''


def sh(*command: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=True, **kwargs)


def timed(*command: str, **kwargs) -> float:
    started = time.perf_counter()
    sh(*command, **kwargs)
    return time.perf_counter() - started


def build(tag: str, plugins: str, *cache: str) -> float:
    return timed(DOCKER, "build", "--quiet", "--network", "host", *cache, "-f", "docker/Dockerfile.migration",
                 "--build-arg", f"NCM_PLUGINS={plugins}", "-t", tag, ".", cwd=ROOT,
                 env={**os.environ, "DOCKER_BUILDKIT": "1"})


def database() -> str:
    name = f"ncm_bench_{uuid.uuid4().hex[:10]}"
    sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def first_migration(migrations: Path) -> dict[str, float]:
    url = database()
    docker_run = [DOCKER, "run", "--rm", "--network", "host", "-v", f"{migrations}:/app/migrations"]
    return {
        "docker run ncm": timed(*docker_run, "-e", f"DATABASE_URL={url}", "ncm-migration:latest", "run"),
        "ncm run (host)": timed(str(Path(sys.executable).with_name("ncm")), "run",
                                env={**os.environ, "MIGRATION_DATABASE_URL": database(),
                                     "MIGRATION_MIGRATION_DIRECTORY": str(migrations)}),
        "docker run psql": timed(*docker_run, "--entrypoint", "psql", "ncm-migration:latest", database(),
                                 "-c", "CREATE TABLE users (id serial PRIMARY KEY)"),
    }


def main() -> None:
    cold = build("ncm-migration:bench", "sql sqlite postgres mysql mongo", "--no-cache")
    cached = build("ncm-migration:bench", "sql sqlite postgres mysql mongo")
    sizes = {}
    for tag, plugins in (("ncm-migration:latest", "sql sqlite postgres mysql mongo"),
                         ("ncm-migration:postgres", "postgres")):
        build(tag, plugins)
        sizes[tag] = int(sh(DOCKER, "image", "inspect", "--format", "{{.Size}}", tag).stdout) / 1e6
    sizes["base (python stand-in)"] = int(sh(DOCKER, "image", "inspect", "--format", "{{.Size}}",
                                             "python:3.11.15-slim-bookworm").stdout) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        migrations = Path(tmp)
        migrations.chmod(0o755)
        (migrations / "001_add_users_table.py").write_text(MIGRATION)
        (migrations / "001_add_users_table.py").chmod(0o644)
        rounds = [first_migration(migrations) for _ in range(ROUNDS)]
    best = {name: min(r[name] for r in rounds) for name in rounds[0]}
    print(f"build, all plugins: cold {cold:.1f} s, cached {cached:.1f} s")
    for tag, size in sizes.items():
        print(f"image {tag}: {size:.0f} MB")
    for name, seconds in best.items():
        print(f"{name:>16}: {seconds:.2f} s  ({seconds / best['docker run psql']:.1f}x docker run psql)")


if __name__ == "__main__":
    main()
