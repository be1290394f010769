"""``ncm completion bash|zsh|fish``: the shell's completion script, from cyclopts, which
knows every command and option (plugins' commands included), printed or installed."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

from cyclopts import Parameter

from ncm_core.cli.common import JsonFlag, console, print_json

Shell = Literal["bash", "zsh", "fish"]


def completion(
    shell: Annotated[Shell, Parameter(help="the shell to complete ncm in")],
    /,
    *,
    install: Annotated[bool, Parameter(help="write the script where the shell finds it (and, for bash and zsh, "
                                            "a line loading it in ~/.bashrc or ~/.zshrc) instead of printing it",
                                       negative="")] = False,
    json_: JsonFlag = False,
) -> int:
    """Print the shell completion script for ncm (source it: `source <(ncm completion bash)`),
    or install it with --install; a new shell then completes ncm's commands and options."""
    from ncm_core.cli import app

    if not install:
        script = app.generate_completion(shell=shell)
        if json_:
            print_json({"shell": shell, "script": script})
        else:
            sys.stdout.write(script)
        return 0
    path = app.install_completion(shell=shell)
    if json_:
        print_json({"shell": shell, "path": str(path)})
        return 0
    console().print(f"installed {shell} completion in {path}; it takes effect in a new shell", markup=False,
                    soft_wrap=True)
    return 0
