"""Sessions and clients: assume each member role once, reuse it, count every API call.

boto3 sessions are not thread-safe while creating clients, so creation is serialized and the clients
(which are thread-safe) are cached per (account, service, region). Every per-account session shares
the base session's model loader, so a hundred accounts do not parse the service models a hundred times.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

DEFAULT_MAX_ATTEMPTS = 10
SESSION_NAME = "orgguard-verify"


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS, pool: int = 10) -> Config:
    """Adaptive retries: botocore backs off on throttling and rate-limits itself client-side."""
    return Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        max_pool_connections=max(pool, 10),
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra="orgguard-verify",
    )


class CallCounter:
    """Counts API calls per (account, region) and per check, attributed through a thread-local scope."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.by_target: Counter[tuple[str, str]] = Counter()
        self.by_check: Counter[str] = Counter()
        self.by_operation: Counter[tuple[str, str]] = Counter()  # (check kind, "service:Operation")

    @contextmanager
    def scope(self, account_id: str, region: str, check: str) -> Iterator[None]:
        previous = getattr(self._local, "scope", None)
        self._local.scope = (account_id, region, check)
        try:
            yield
        finally:
            self._local.scope = previous

    def hook(self, model: Any = None, **_: Any) -> None:
        account_id, region, check = getattr(self._local, "scope", None) or ("-", "-", "setup")
        operation = f"{model.service_model.signing_name}:{model.name}" if model is not None else "?"
        with self._lock:
            self.by_target[(account_id, region)] += 1
            self.by_check[check] += 1
            self.by_operation[(check, operation)] += 1


class SessionPool:
    """One session per account: the base credentials for the caller's own account, an assumed role elsewhere."""

    def __init__(
        self,
        base: boto3.Session,
        *,
        role_name: str,
        external_id: str | None,
        counter: CallCounter,
        workers: int,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.base = base
        self.role_name = role_name
        self.external_id = external_id
        self.counter = counter
        self.config = client_config(max_attempts, pool=workers)
        self._create_lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._sessions: dict[str, boto3.Session | BaseException] = {}
        self._clients: dict[tuple[str, str, str, int], Any] = {}
        self._caller: str | None = None

    def caller_account(self) -> str:
        """The account the base credentials belong to (asked once)."""
        if self._caller is None:
            sts = self.client(None, "sts", self.base.region_name or "us-east-1")
            self._caller = str(sts.get_caller_identity()["Account"])
        return self._caller

    def _lock_for(self, account_id: str) -> threading.Lock:
        with self._create_lock:
            return self._account_locks.setdefault(account_id, threading.Lock())

    def session(self, account_id: str | None) -> boto3.Session:
        """The session for ``account_id`` (None = base). A failed AssumeRole is remembered and re-raised."""
        if account_id is None or account_id == self.caller_account():
            return self.base
        with self._lock_for(account_id):
            cached = self._sessions.get(account_id)
            if cached is None:
                try:
                    cached = self._assume(account_id)
                except Exception as exc:
                    cached = exc
                self._sessions[account_id] = cached
        if isinstance(cached, BaseException):
            raise cached
        return cached

    def _assume(self, account_id: str) -> boto3.Session:
        sts = self.client(None, "sts", self.base.region_name or "us-east-1")
        kwargs: dict[str, Any] = {
            "RoleArn": f"arn:aws:iam::{account_id}:role/{self.role_name}",
            "RoleSessionName": SESSION_NAME,
        }
        if self.external_id:
            kwargs["ExternalId"] = self.external_id
        creds = sts.assume_role(**kwargs)["Credentials"]
        core = botocore.session.get_session()
        # The member session keeps the base session's own settings (config file, profile, ...): that is where an
        # endpoint_url, ca_bundle or FIPS setting lives. Without them its calls went to the public endpoints;
        # with no route there, botocore retried each connection error up to max_attempts (43 s per run against
        # the sandbox, whose endpoint is in its config file). Credentials are never instance variables.
        for name, value in self.base._session.instance_variables().items():
            core.set_config_variable(name, value)
        core.register_component("data_loader", self.base._session.get_component("data_loader"))
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.base.region_name,
            botocore_session=core,
        )

    def client(self, account_id: str | None, service: str, region: str, *, attempts: int | None = None) -> Any:
        """A cached client; ``attempts`` gives a separate client with its own retry budget (probes)."""
        key = (account_id or "", service, region, attempts or 0)
        found = self._clients.get(key)
        if found is not None:
            return found
        session = self.base if account_id is None else self.session(account_id)
        config = self.config
        if attempts is not None:
            config = config.merge(Config(retries={"mode": "adaptive", "total_max_attempts": attempts}))
        with self._create_lock:
            found = self._clients.get(key)
            if found is None:
                found = session.client(service, region_name=region, config=config)
                found.meta.events.register("before-call", self.counter.hook)
                self._clients[key] = found
        return found
