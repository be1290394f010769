"""The example plugin's command, in a module of its own: ncm imports it only when
``ncm example-steps`` runs, so the plugin costs ``ncm --help`` nothing."""

import os
import sys


def example_steps() -> int:
    """Print the steps the after-migration hook logged to $NCM_EXAMPLE_LOG."""
    path = os.environ.get("NCM_EXAMPLE_LOG")
    if not path or not os.path.exists(path):
        print("no steps logged")
        return 0
    with open(path, encoding="utf-8") as log:
        sys.stdout.write(log.read())
    return 0
