"""``ncm backup`` (with ``backup list``) and ``ncm restore``."""

from __future__ import annotations

from typing import Annotated, Any

from cyclopts import App, Parameter

from ncm_core.cli import fleet
from ncm_core.cli.common import JsonFlag, console, print_json, print_table, with_runner
from ncm_core.errors import UsageError

backup_app = App(name="backup", help="Back the database up, or list the backups (ncm backup list).")


@backup_app.default
def backup(
    path: Annotated[str | None, Parameter(help="a name in the backup store, or a file path; default: a new name")] = None,
    *,
    json_: JsonFlag = False,
    targets: fleet.TargetsOption = None,
    parallel: fleet.ParallelOption = fleet.DEFAULT_PARALLEL,
    shard: fleet.ShardOption = None,
) -> int:
    """Back the database up (encrypted when MIGRATION_ENCRYPTION_KEY is set)."""
    if targets is not None:
        if path is not None:
            raise UsageError("with --targets each target's backup gets a new name in its store: give no path")
        return fleet.backup_targets(targets, parallel=parallel, shard=shard, json_=json_)
    fleet.refuse_without_targets(shard=shard)
    async def go(runner: Any) -> int:
        made = await runner.backup_database(path)
        if json_:
            print_json(made)
        else:
            console().print(f"backup written to {made['location']} ({_size(made['size'])}"
                            f"{', encrypted' if made['encryption'] else ''})", markup=False)
        return 0

    return with_runner(go, migrations=False)


@backup_app.command(name="list")
def backup_list(*, json_: JsonFlag = False) -> int:
    """List the backups in the backup store, newest first, from their manifests."""
    async def go(runner: Any) -> int:
        backups = await runner.list_backups()
        if json_:
            print_json({"backups": backups})
            return 0
        if not backups:
            console().print("no backups yet")
            return 0
        print_table(["created at (UTC)", "location", "database", "history head", "size", "encrypted"],
                    [[b["created_at"][:19].replace("T", " "), b["location"], f"{b['database']} ({b['backend']})",
                      b["history_head"] or "(none)", _size(b["size"]), "yes" if b["encryption"] else "no"]
                     for b in backups], keep=(0, 1, 3))
        return 0

    return with_runner(go, connect=False, migrations=False)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def restore(
    path: Annotated[str, Parameter(help="a backup's name in the store, or the path of its archive")],
    *,
    yes: Annotated[bool, Parameter(help="replace the database without asking (required off a terminal in "
                                        "staging and production)", negative="")] = False,
    json_: JsonFlag = False,
) -> int:
    """Replace the database's contents, history included, with a verified backup's."""
    async def go(runner: Any) -> int:
        if not yes:
            _confirm(runner.config, path)
        restored = await runner.restore_database(path)
        if json_:
            print_json(restored)
        else:
            console().print(f"restored {restored['location']}: {restored['database']} as of "
                            f"{restored['created_at'][:19].replace('T', ' ')} UTC, "
                            f"history head {restored['history_head'] or '(none)'}", markup=False)
        return 0

    return with_runner(go, migrations=False)


def _confirm(config: Any, path: str) -> None:
    """A restore replaces everything, history included: asked on a terminal in every
    environment, and refused off one (a script, a CI job) in staging and production unless
    ``--yes`` says it is meant."""
    import sys

    environment = config.environment.value
    if sys.stdin.isatty():
        answer = input(f"restore {path} over {config.safe_url} ({environment}), replacing its contents and "
                       "history? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise UsageError("restore cancelled: nothing was changed")
    elif environment in ("staging", "production"):
        raise UsageError(f"restore replaces the {environment} database's contents; run again with --yes to confirm")
