"""``ncm plugins``: what was discovered, and what failed to load."""

from __future__ import annotations

from ncm_core.cli.common import JsonFlag, console, print_json


def plugins(*, json_: JsonFlag = False) -> int:
    """List every discovered plugin, its version and what it provides."""
    from ncm_core import plugins as registry

    infos = registry.describe()
    if json_:
        print_json({"plugins": [i.__dict__ for i in infos], "disabled": registry.get_plugins().disabled})
        return 0
    from rich.table import Table

    table = Table("plugin", "distribution", "version", "provides")
    for i in infos:
        provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in i.provides.items() if names)
        table.add_row(i.name, i.distribution, i.version, f"[red]failed to load: {i.error}[/]" if i.error else provides)
    out = console()
    out.print(table)
    if registry.get_plugins().disabled:
        out.print(f"disabled by {registry.DISABLE_ENV}: {', '.join(registry.get_plugins().disabled)}")
    return 0
