"""Remediation runbooks: SSM Automation documents with embedded, tested handlers, and their roles.

A runbook is a `Runbook` object: one used by a single control lives in that control's folder
(orgguard/controls/<control>/runbook.py), one shared by several lives here (orgguard/runbooks/<name>/).
Controls hold the object itself. `RUNBOOKS` (key -> runbook) is derived from the control catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgguard.runbooks.model import ACCOUNT, DEFAULT_EXEMPTION_TAG_KEY, EXEMPTION_TAG_FORMAT, Grant, Param, Runbook

if TYPE_CHECKING:
    RUNBOOKS: dict[str, Runbook]


def __getattr__(name: str) -> Any:
    """RUNBOOKS comes from the catalog, which imports this package: resolve it on first use, not at import."""
    if name == "RUNBOOKS":
        from orgguard.controls import RUNBOOKS

        return RUNBOOKS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACCOUNT",
    "DEFAULT_EXEMPTION_TAG_KEY",
    "EXEMPTION_TAG_FORMAT",
    "RUNBOOKS",
    "Grant",
    "Param",
    "Runbook",
]
