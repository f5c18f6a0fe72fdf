"""Is the sandbox installed? The `orgguard[sandbox]` extra brings what only the sandbox needs.

Cheap on purpose (no import of moto, only a lookup), because `orgguard` asks on every run to decide whether
to register the `sandbox` and `demo` sub-commands.
"""

from __future__ import annotations

import importlib.util

# The distributions of the extra, by the module each installs (pyproject.toml, [project.optional-dependencies]).
REQUIRED = {"moto": "moto[server]", "waitress": "waitress", "flask": "moto[server]"}
INSTALL = "pip install 'orgguard[sandbox]'"


def missing() -> list[str]:
    """The extra's modules that cannot be found, in a stable order (empty when the sandbox can run)."""
    absent = []
    for module in REQUIRED:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a broken or blocked install counts as absent
            found = False
        if not found:
            absent.append(module)
    return absent


def install_hint() -> str:
    """The one line a user without the extra sees."""
    names = ", ".join(missing()) or "moto, waitress"
    return f"the local sandbox is not installed ({names} missing); install it with: {INSTALL}"
