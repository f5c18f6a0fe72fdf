"""The control catalog, found by scanning this package: every sub-folder is one control.

A folder orgguard/controls/<id_with_underscores>/ defines `CONTROL` (a `Control`) in its __init__.py, with
its rule, settings, caveats, capabilities and runbook (runbook.py + handler.py beside it, or a shared
runbook object from orgguard.runbooks). No list to register in: a folder without `CONTROL`, a folder
named unlike its id, or two controls with the same `order` fail at import, naming the folder.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from orgguard.controls.base import Control, ControlSettings
from orgguard.runbooks.model import Runbook


def discover(paths: Iterable[str], package: str) -> dict[str, Control]:
    """Every control folder under `paths` (the sub-packages of `package`), in their declared order."""
    found: list[Control] = []
    for info in sorted(pkgutil.iter_modules(list(paths)), key=lambda i: i.name):
        if not info.ispkg:
            continue  # base.py and other shared modules
        module = importlib.import_module(f"{package}.{info.name}")
        control = getattr(module, "CONTROL", None)
        if not isinstance(control, Control):
            raise TypeError(f"orgguard/controls/{info.name}/__init__.py: define CONTROL, an instance of a Control")
        if control.id.replace("-", "_") != info.name:
            raise ValueError(
                f"orgguard/controls/{info.name}: CONTROL.id is {control.id!r}; name the folder "
                f"{control.id.replace('-', '_')} (its id with underscores)"
            )
        found.append(control)
    orders: dict[int, str] = {}
    for control in found:
        if control.order in orders:
            raise ValueError(f"controls {orders[control.order]} and {control.id} share order {control.order}")
        orders[control.order] = control.id
    return {c.id: c for c in sorted(found, key=lambda c: c.order)}


def _runbooks(catalog: dict[str, Control]) -> dict[str, Runbook]:
    """Every runbook a control uses, by key (a shared runbook once), in key order; one object per key."""
    found: dict[str, Runbook] = {}
    for control in catalog.values():
        runbook = control.runbook
        if runbook is None:
            continue
        if found.setdefault(runbook.key, runbook) is not runbook:
            raise ValueError(f"control {control.id}: a second runbook object is keyed {runbook.key!r}")
    return dict(sorted(found.items()))


CATALOG: dict[str, Control] = discover(__path__, __name__)
RUNBOOKS: dict[str, Runbook] = _runbooks(CATALOG)

__all__ = ["CATALOG", "RUNBOOKS", "Control", "ControlSettings"]
