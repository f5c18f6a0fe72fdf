"""Remediation runbooks: SSM Automation documents with embedded, tested handlers, and their roles.

The synthesis reads `RUNBOOKS`; each `Runbook` renders its document (exact bytes, hashed and deployed
unchanged) and its trust and permission policies, with `ACCOUNT` as the member-account placeholder.
"""

from orgguard.runbooks.model import ACCOUNT, Grant, Param, Runbook
from orgguard.runbooks.registry import (
    DEFAULT_EXEMPTION_TAG_KEY,
    EXEMPTION_TAG_FORMAT,
    RUNBOOKS,
)

__all__ = [
    "ACCOUNT",
    "DEFAULT_EXEMPTION_TAG_KEY",
    "EXEMPTION_TAG_FORMAT",
    "RUNBOOKS",
    "Grant",
    "Param",
    "Runbook",
]
