"""WSGI layer in front of moto: latency and throttle injection, locked accounts, request counts.

It sits outside moto so it works the same for every service, and it answers the sandbox's own
control calls under ``/_orgguard/`` (lock an account, read or reset the request counters).
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

CONTROL_PREFIX = "/_orgguard/"
_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Every attempt of one SDK call carries the same invocation id (botocore handlers.add_retry_headers; the Go SDK v2
# the provider uses sends Amz-Sdk-Invocation-Id the same way); a new call gets a new one.
_INVOCATION_HEADERS = ("HTTP_AMZ_SDK_INVOCATION_ID",)
REPLAY_MAX_ENTRIES = 4096
REPLAY_MAX_BYTES = 32 * 1024 * 1024
REPLAY_WAIT_S = 120.0


class ReplayCache:
    """The successful answer of each SDK call, replayed to a retry of that same call.

    Why: on 127.0.0.1 under load the client can lose an answer the sandbox already sent, or give up waiting for one
    the sandbox is still working on; the provider (max_retries) and boto3 then retry a create that happened, and moto
    answers AlreadyExists/Duplicate, failing an apply AWS would not have failed for a transport reason. Only an
    attempt of the same call (same invocation id) is replayed: a separate call, even an identical one, reaches moto
    and gets AWS's answer. A retry that arrives while the first attempt is still running waits for it (bounded).
    Bounded in entries and bytes (oldest dropped first).
    """

    def __init__(
        self, max_entries: int = REPLAY_MAX_ENTRIES, max_bytes: int = REPLAY_MAX_BYTES, wait_s: float = REPLAY_WAIT_S
    ) -> None:
        self._answers: OrderedDict[str, tuple[str, list, bytes]] = OrderedDict()
        self._running: dict[str, threading.Event] = {}
        self._bytes = 0
        self._max_entries, self._max_bytes, self._wait_s = max_entries, max_bytes, wait_s
        self._lock = threading.Lock()
        self.replayed = 0

    def claim(self, invocation: str) -> tuple[tuple[str, list, bytes] | None, bool]:
        """(the answer to replay, or None; whether this attempt is the one that runs and records the answer)."""
        with self._lock:
            answer = self._answers.get(invocation)
            if answer is not None:
                self.replayed += 1
                return answer, False
            running = self._running.get(invocation)
            if running is None:
                self._running[invocation] = threading.Event()
                return None, True
        running.wait(self._wait_s)  # an earlier attempt of this call is still being answered
        with self._lock:
            answer = self._answers.get(invocation)
            if answer is not None:
                self.replayed += 1
            return answer, False

    def finish(self, invocation: str, answer: tuple[str, list, bytes] | None) -> None:
        """Record the running attempt's answer (None: not successful, nothing to replay) and wake its retries."""
        with self._lock:
            if answer is not None and len(answer[2]) <= self._max_bytes and invocation not in self._answers:
                self._answers[invocation] = answer
                self._bytes += len(answer[2])
                while len(self._answers) > self._max_entries or self._bytes > self._max_bytes:
                    _, old = self._answers.popitem(last=False)
                    self._bytes -= len(old[2])
            running = self._running.pop(invocation, None)
        if running is not None:
            running.set()

    def get(self, invocation: str) -> tuple[str, list, bytes] | None:
        with self._lock:
            return self._answers.get(invocation)

    def put(self, invocation: str, answer: tuple[str, list, bytes]) -> None:
        self.finish(invocation, answer)


def invocation_id(environ: dict[str, Any]) -> str | None:
    for key in _INVOCATION_HEADERS:
        value = environ.get(key)
        if value:
            return str(value)
    return None


class SandboxState:
    """Mutable switches shared by the middleware and the control endpoints (thread-safe)."""

    def __init__(self, *, latency_ms: int = 0, throttle_every: int = 0) -> None:
        self.latency_ms = latency_ms
        self.throttle_every = throttle_every
        self.armed = False  # latency/throttle only after bootstrap, so start-up stays fast
        self.locked: set[str] = set()
        self.member_accounts: set[str] = set()
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        self.throttled = 0
        self._seen = 0
        self._lock = threading.Lock()

    def next_is_throttled(self) -> bool:
        with self._lock:
            self._seen += 1
            hit = self.throttle_every > 0 and self._seen % self.throttle_every == 0
            if hit:
                self.throttled += 1
            return hit

    def count(self, key: tuple[str, str, str, str]) -> None:
        with self._lock:
            self.counts[key] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            rows = [
                {"account_id": a, "region": r, "service": s, "action": act, "count": n}
                for (a, r, s, act), n in sorted(self.counts.items())
            ]
            return {"total": sum(self.counts.values()), "throttled": self.throttled, "calls": rows}

    def reset_stats(self) -> None:
        with self._lock:
            self.counts.clear()
            self.throttled = 0


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back so moto can read it again."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    body = environ["wsgi.input"].read(size) if size else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _action(environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if values:
            return values[0]
    return f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"


def protocol_error(environ: dict[str, Any], status: str, code: str, message: str) -> tuple[str, list, bytes]:
    """An error shaped for the request's protocol, so botocore parses the code (and retries throttles)."""
    request_id = str(uuid.uuid4())
    ctype = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") or ctype.startswith("application/x-amz-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)]
    elif ctype.startswith("application/x-www-form-urlencoded"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    else:  # rest-json services (Control Tower and friends) read the header
        body = json.dumps({"message": message}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", request_id),
        ]
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def _throttle_code(environ: dict[str, Any], service: str) -> str:
    if service == "ec2":
        return "RequestLimitExceeded"
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return "Throttling"
    return "ThrottlingException"


class SandboxMiddleware:
    """Wraps moto's dispatcher application."""

    def __init__(
        self,
        app: WsgiApp,
        state: SandboxState,
        role_exists: Callable[[str, str], bool],
        account_of_key: Callable[[str], str],
    ) -> None:
        self.app = app
        self.state = state
        self.role_exists = role_exists
        self.account_of_key = account_of_key
        self.control: dict[str, Callable[[dict[str, Any], bytes], Any]] = {
            "stats": lambda env, body: self.state.stats(),
            "stats/reset": self._reset,
            "lock": self._lock_account,
            "unlock": self._unlock_account,
        }
        # Services moto lacks entirely, answered here: signing name -> handler(environ, body, account, region)
        self.services: dict[str, Callable[[dict[str, Any], bytes, str, str], tuple[str, list, bytes]]] = {}
        self.replay = ReplayCache()

    def _reset(self, environ: dict[str, Any], body: bytes) -> dict[str, Any]:
        self.state.reset_stats()
        return {"ok": True}

    def _lock_account(self, environ: dict[str, Any], body: bytes) -> dict[str, Any]:
        account = json.loads(body or b"{}").get("account_id", "")
        self.state.locked.add(str(account))
        return {"locked": sorted(self.state.locked)}

    def _unlock_account(self, environ: dict[str, Any], body: bytes) -> dict[str, Any]:
        account = json.loads(body or b"{}").get("account_id", "")
        self.state.locked.discard(str(account))
        return {"locked": sorted(self.state.locked)}

    def register_control(self, name: str, handler: Callable[[dict[str, Any], bytes], Any]) -> None:
        """Let an extension add its own control endpoint (for example a test hook)."""
        self.control[name] = handler

    def _answer_control(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        name = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :].strip("/")
        handler = self.control.get(name)
        body = _read_body(environ)
        if handler is None:
            payload, status = {"error": f"unknown control endpoint {name!r}"}, "404 Not Found"
        else:
            payload, status = handler(environ, body), "200 OK"
        data = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _denied_assume_role(self, environ: dict[str, Any], body: bytes, service: str) -> str | None:
        """Why an sts:AssumeRole must be refused (locked account, missing role), else None."""
        if service != "sts" or _action(environ, body) != "AssumeRole":
            return None
        arn = (parse_qs(body.decode("utf-8", "replace")).get("RoleArn") or [""])[0]
        match = _ROLE_ARN.match(arn)
        if not match:
            return None
        account, role = match.groups()
        if account in self.state.locked:
            return f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
        if account in self.state.member_accounts and not self.role_exists(account, role):
            return f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
        return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            return self._answer_control(environ, start_response)
        invocation = invocation_id(environ)
        if invocation is None:
            return self._dispatch(environ, start_response)
        answer, owner = self.replay.claim(invocation)
        if answer is not None:
            status, headers, data = answer
            print(f"sandbox: {_action(environ, _read_body(environ))} retried (amz-sdk-invocation-id {invocation}); "
                  "answered with its first attempt's response", file=sys.stderr, flush=True)
            start_response(status, headers)
            return [data]
        if not owner:  # the first attempt failed (nothing to replay): this attempt gets moto's own answer
            return self._dispatch(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        recorded: tuple[str, list, bytes] | None = None
        try:
            chunks = self._dispatch(environ, capture)
            try:
                data = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            if str(captured.get("status", "")).startswith("2"):
                recorded = (captured["status"], list(captured["headers"]), data)
        finally:
            self.replay.finish(invocation, recorded)
        return [data]

    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ)
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        key, region, service = match.groups() if match else ("", "", "")
        if self.state.armed:
            if self.state.latency_ms:
                time.sleep(self.state.latency_ms / 1000)
            if self.state.next_is_throttled():
                status, headers, data = protocol_error(
                    environ, "400 Bad Request", _throttle_code(environ, service), "Rate exceeded"
                )
                start_response(status, headers)
                return [data]
            self.state.count((self.account_of_key(key) if key else "", region, service, _action(environ, body)))
        handler = self.services.get(service)
        if handler is not None:
            status, headers, data = handler(environ, body, self.account_of_key(key), region)
            start_response(status, headers)
            return [data]
        reason = self._denied_assume_role(environ, body, service)
        if reason:
            status, headers, data = protocol_error(environ, "403 Forbidden", "AccessDenied", reason)
            start_response(status, headers)
            return [data]
        return self.app(environ, start_response)
