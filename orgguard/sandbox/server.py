"""`python -m orgguard.sandbox.server`: moto, extended where the loop needs it, on 127.0.0.1.

Runs in its own process (moto keeps its state in module globals): installs the extensions, serves
on a free port, builds the fake organization, then writes a ready file with the endpoint and the
organization's ids for the parent to read.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress.server import create_server

from orgguard.sandbox.middleware import SandboxMiddleware, SandboxState, protocol_error
from orgguard.sandbox.org import FakeOrg, bootstrap

SERVER_THREADS = 32  # verifier pools, four terraform applies and automation runs at once
CHANNEL_TIMEOUT_S = 300

# Each module has `install(ctx: ServerContext) -> None`; order matters only for shared patches.
EXTENSIONS = (
    "orgguard.sandbox.organizations_ext",
    "orgguard.sandbox.config_rules",
    "orgguard.sandbox.config_org",
    "orgguard.sandbox.remediation",
    "orgguard.sandbox.events",
    "orgguard.sandbox.config_evaluation",
    "orgguard.sandbox.controltower",
    "orgguard.sandbox.automation",
    "orgguard.sandbox.sg_evaluation",  # after config_evaluation: wraps its StartConfigRulesEvaluation
    "orgguard.sandbox.stacksets",
    "orgguard.sandbox.vpc_bpa",
)


@dataclass
class ServerContext:
    """What an extension may use: the switches, the middleware, the endpoint and (later) the org."""

    state: SandboxState
    middleware: SandboxMiddleware
    endpoint_url: str = ""
    org: FakeOrg | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _role_exists(account_id: str, role_name: str) -> bool:
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["global"]
    return any(role.name == role_name for role in backend.roles.values())


def _account_of_key(access_key: str) -> str:
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def _not_implemented(exc: NotImplementedError) -> Any:
    """moto raises NotImplementedError for operations it lacks; Flask would answer 500, which clients retry
    (botocore, and the terraform provider's SDK retry 500/502/503/504) until an apply hangs for minutes.
    Answer 501 with the error code `NotImplemented` in the request's protocol instead: no client retries a
    501, and the verifier can tell "the emulator lacks this" from a transient failure."""
    from flask import Response, request

    _, headers, body = protocol_error(request.environ, "501 Not Implemented", "NotImplemented", _short(str(exc)))
    return Response(body, status=501, headers=[h for h in headers if h[0] != "Content-Length"])


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split()) or "This operation is not implemented by the local sandbox"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _backend_app(service: Any) -> Any:
    app = create_backend_app(service)
    app.register_error_handler(NotImplementedError, _not_implemented)
    return app


def install_extensions(ctx: ServerContext) -> list[str]:
    installed = []
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an extension not written yet must not stop the server
            if exc.name == name:
                continue
            raise
        module.install(ctx)
        installed.append(name)
    return installed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orgguard.sandbox.server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--throttle-every", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("waitress").setLevel(logging.ERROR)  # not a warning per queued task under load

    state = SandboxState(latency_ms=args.latency_ms, throttle_every=args.throttle_every)
    dispatcher = DomainDispatcherApplication(_backend_app)
    middleware = SandboxMiddleware(dispatcher, state, _role_exists, _account_of_key)
    ctx = ServerContext(state=state, middleware=middleware)
    installed = install_extensions(ctx)

    # waitress, not werkzeug's development server: it keeps HTTP/1.1 connections alive and drains what a
    # request left unread before the next one, so a client (the terraform provider reuses connections) never
    # writes to a connection the server has dropped. Idle connections live longer here (channel_timeout)
    # than in Go's client (IdleConnTimeout 90 s), so the client is always the one to close them.
    server = create_server(
        middleware,
        host="127.0.0.1",
        port=args.port,
        threads=SERVER_THREADS,
        channel_timeout=CHANNEL_TIMEOUT_S,
        connection_limit=1000,
        backlog=1024,
        asyncore_use_poll=True,
        ident="orgguard-sandbox",
    )
    ctx.endpoint_url = f"http://127.0.0.1:{server.effective_port}"
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    ctx.org = bootstrap(ctx.endpoint_url)
    state.member_accounts = set(ctx.org.accounts)
    for hook in ctx.extra.get("after_bootstrap", []):
        hook(ctx)
    state.armed = True
    ready = {"endpoint_url": ctx.endpoint_url, "org": json.loads(ctx.org.to_json()), "extensions": installed}
    tmp = args.ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(ready))
    tmp.replace(args.ready_file)
    while not stopped.wait(0.5) and thread.is_alive():
        pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
