"""What a check needs: the manifest, one target, the session pool, and a per-target memo.

The memo lets several checks share one API read (for example one DescribeConfigRules for all rules of
an account-region) while a failed read still fails only the checks that needed it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from orgguard.manifest import Manifest
from orgguard.verify.aws import SessionPool

T = TypeVar("T")


class Memo:
    """Thread-safe compute-once cache that remembers exceptions as well as values."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[Any, threading.Lock] = {}
        self._values: dict[Any, tuple[bool, Any]] = {}

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                try:
                    self._values[key] = (True, compute())
                except Exception as exc:
                    self._values[key] = (False, exc)
        ok, value = self._values[key]
        if not ok:
            raise value
        return value


@dataclass
class OrgFacts:
    """Organization-level reads shared by all member targets (each a value or the exception it raised)."""

    ou_accounts: dict[str, set[str]] = field(default_factory=dict)  # target OU -> accounts beneath it
    # (org pack name, region) -> {account: detailed status item}, or the exception the read raised.
    # Packs are regional and one name is usually reused in every region.
    pack_status: dict[tuple[str, str], Any] = field(default_factory=dict)
    stack_instances: dict[str, Any] = field(default_factory=dict)  # stackset -> {(acct, region): item} | exc
    # (document, manifest sha256, SSM's reported SHA-256) -> same_json_only, for content this run read and
    # found to be the manifest's: an account reporting the same hash needs no GetDocument (one dict write
    # per key, safe across threads).
    verified_documents: dict[tuple[str, str, str], bool] = field(default_factory=dict)


@dataclass
class Target:
    manifest: Manifest
    pool: SessionPool
    account_id: str
    region: str
    org: OrgFacts
    manifest_dir: Path | None = None
    memo: Memo = field(default_factory=Memo)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.pool.client(self.account_id, service, region or self.region)
