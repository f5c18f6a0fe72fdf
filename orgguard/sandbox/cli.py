"""`orgguard sandbox serve`: run the local sandbox until Ctrl-C and print how to reach it."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from orgguard.errors import SandboxError
from orgguard.sandbox.sandbox import Sandbox


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sandbox", help="local AWS sandbox (moto) with a fake organization")
    sub = parser.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    serve = sub.add_parser("serve", help="start the sandbox and keep it running until Ctrl-C")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    serve.add_argument("--latency-ms", type=int, default=0, help="delay added to every request")
    serve.add_argument("--throttle-every", type=int, default=0, help="throttle every Nth request (>= 2)")
    serve.add_argument("--workdir", type=Path, default=None, help="where the server log goes")
    serve.set_defaults(func=_serve)


def describe(sb: Sandbox) -> str:
    org = sb.org
    lines = [
        f"endpoint:          {sb.endpoint_url}",
        f"organization:      {org.organization_id} (root {org.root_id})",
        f"management:        {org.management_account_id}",
        f"delegated admin:   {org.delegated_admin_account_id}",
        f"regions:           {', '.join(org.regions)} (home {org.home_region})",
        "OUs:               " + ", ".join(f"{name}={ou}" for name, ou in sorted(org.ous.items())),
        "target OUs:        " + ", ".join(org.target_ous) + " (governance_yaml() targets these; Security is not)",
        f"log archive:       {org.log_archive_account_id}",
        "members:",
    ]
    ou_names = {ou: name for name, ou in org.ous.items()}
    for account_id, ou in sorted(org.accounts.items()):
        name = org.account_names.get(account_id, "")
        lines.append(f"  {account_id}  {name:<12} {ou_names.get(ou, ou)}")
    lines.append("use it with:")
    lines.extend(f"  export {key}={value}" for key, value in sb.env().items())
    return "\n".join(lines)


def _serve(args: argparse.Namespace) -> int:
    if args.port < 0 or args.port > 65535:
        print(f"error: --port {args.port} is out of range; use 1-65535 or 0 for a free port", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="orgguard-sandbox-"))
    try:
        sandbox = Sandbox(workdir, port=args.port, latency_ms=args.latency_ms, throttle_every=args.throttle_every)
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with sandbox as sb:
            print(describe(sb), flush=True)
            print("serving; press Ctrl-C to stop", flush=True)
            threading.Event().wait()
    except SandboxError as exc:
        first = str(exc).splitlines()[0]
        print(f"error: {first} (see {workdir / 'sandbox.log'}; for a taken --port pick another)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped")
    return 0
