"""Local sandbox: moto on 127.0.0.1 with a fake AWS organization, extended where the loop needs it.

Use ``with Sandbox(tmp_path) as sb:`` and point boto3 at ``sb.session(account)`` or terraform and
subprocesses at ``sb.env()``. See docs/sandbox.md. An optional part (`pip install 'orgguard[sandbox]'`):
the names below load on first use, so `orgguard.sandbox.extra` can tell whether it is installed cheaply.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"FakeOrg": "orgguard.sandbox.org", "Sandbox": "orgguard.sandbox.sandbox", "SandboxError": "orgguard.errors"}
__all__ = ["FakeOrg", "Sandbox", "SandboxError"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
