"""Where a tenant template's tenants come from: the file's list, a command's output (one
name a line) or a query on a control database; then the targets they make."""

from __future__ import annotations

import asyncio
import os
import shlex

from ncm_core.errors import UsageError
from ncm_core.fleet.targets import Target, TargetsFile, TargetSpec, check_tenants, expand, expand_variables


async def targets_of(found: TargetsFile) -> list[Target]:
    """Every target of the file, tenants read, in the file's order."""
    targets: list[Target] = []
    for spec in found.specs:
        targets += expand(spec, await tenants_of(spec, found.where) if spec.is_template else None)
    return targets


async def tenants_of(spec: TargetSpec, where: str) -> list[str]:
    at = f"{where}: target {spec.name}"
    if spec.tenants is not None:
        return list(spec.tenants)
    names = await (_from_command(spec.tenants_command, at) if spec.tenants_command is not None
                   else _from_query(spec, at))
    check_tenants(names, at)
    return names


async def _from_command(command: str, at: str) -> list[str]:
    """The command's non-empty stdout lines; it runs without a shell, in the environment."""
    try:
        process = await asyncio.create_subprocess_exec(*shlex.split(command), stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.PIPE, env=os.environ)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{at}: tenants_command cannot run: {exc}") from None
    out, err = await process.communicate()
    if process.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["(no output on stderr)"])[-1]
        raise UsageError(f"{at}: tenants_command exited with {process.returncode}: {last}")
    return [line.strip() for line in out.decode().splitlines() if line.strip()]


async def _from_query(spec: TargetSpec, at: str) -> list[str]:
    """The query's first column, read through the backend of the control database's URL."""
    from ncm_core.capabilities import SupportsQuery, require
    from ncm_core.config import load_config
    from ncm_core.runner import backend_class

    url = expand_variables(spec.tenants_database or "", os.environ, f"{at}: tenants_database")
    config = load_config(None, database_url=url)
    backend = backend_class(config)(config)
    await backend.connect()
    try:
        return await require(backend, SupportsQuery, "run a tenants_query").query_column(spec.tenants_query or "")
    except UsageError as exc:
        raise UsageError(f"{at}: {exc}") from None
    finally:
        await backend.close()
