"""``ncm plugins``: what was discovered, and what failed to load."""

from __future__ import annotations

from ncm_core.cli.common import JsonFlag, console, print_json, print_table


def plugins(*, json_: JsonFlag = False) -> int:
    """List every discovered plugin, its version and what it provides."""
    from ncm_core import plugins as registry

    infos = registry.describe()
    if json_:
        print_json({"plugins": [i.__dict__ for i in infos], "disabled": registry.get_plugins().disabled})
        return 0
    from rich.text import Text

    rows = [[i.name, i.distribution, i.version,
             Text(f"failed to load: {i.error}", style="red") if i.error else
             "; ".join(f"{kind}: {', '.join(names)}" for kind, names in i.provides.items() if names)] for i in infos]
    print_table(["plugin", "distribution", "version", "provides"], rows)
    out = console()
    if registry.get_plugins().disabled:
        out.print(f"disabled by {registry.DISABLE_ENV}: {', '.join(registry.get_plugins().disabled)}")
    return 0
