"""`orgguard verify` and `orgguard canary`: argument parsing, input validation, exit codes."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

import boto3
from pydantic import ValidationError

from orgguard.manifest import Manifest, load_manifest
from orgguard.verify.render import FORMATS

EXIT_USAGE = 2
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


def _manifest(path: str) -> Manifest:
    file = Path(path)
    if not file.is_file():
        raise UsageError(
            f"manifest {path} not found: pass DIR/orgguard-manifest.json written by `orgguard synth --out DIR`"
        )
    try:
        raw = json.loads(file.read_text())
    except (ValueError, OSError) as exc:
        raise UsageError(f"manifest {path} is not JSON ({exc}); re-run `orgguard synth` to regenerate it") from None
    if isinstance(raw, dict) and set(raw) == {"version", "stacks"}:
        raise UsageError(
            f"{path} is cdktf's stack list, not the plan: pass orgguard-manifest.json from the same directory"
        )
    try:
        return load_manifest(file)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UsageError(
            f"manifest {path} is invalid at {where}: {first['msg']}; re-run `orgguard synth` to regenerate it"
        ) from None
    except (ValueError, OSError) as exc:
        raise UsageError(f"manifest {path} cannot be read ({exc}); re-run `orgguard synth` to regenerate it") from None


def _csv(value: str | None, pattern: re.Pattern[str], what: str) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if not pattern.match(v)]
    if bad or not items:
        raise UsageError(
            f"--{what} {value!r} is not a comma-separated list of {what} (bad: {', '.join(bad) or 'empty'})"
        )
    return items


def _check_regions(manifest: Manifest, regions: list[str] | None) -> None:
    unknown = [r for r in regions or [] if r not in manifest.organization.regions]
    if unknown:
        raise UsageError(
            f"region(s) {', '.join(unknown)} not in the manifest (it covers {', '.join(manifest.organization.regions)})"
        )


def _session() -> boto3.Session:
    return boto3.Session()


def cmd_verify(args: argparse.Namespace) -> int:
    from orgguard.verify import render, verify

    try:
        manifest = _manifest(args.manifest)
        if args.workers < 1 or args.workers > 256:
            raise UsageError(f"--workers {args.workers} is out of range: use 1 to 256")
        accounts = _csv(args.accounts, _ACCOUNT, "accounts")
        regions = _csv(args.regions, _REGION, "regions")
        _check_regions(manifest, regions)
    except UsageError as exc:
        print(f"orgguard verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = verify(
        manifest,
        session=_session(),
        member_role_name=args.role_name,
        external_id=args.external_id,
        workers=args.workers,
        accounts=accounts,
        regions=regions,
        manifest_dir=Path(args.manifest).resolve().parent,
    )
    text = render(report, args.format)
    if args.output:
        Path(args.output).write_text(text)
        print(render(report, "table").splitlines()[-1], file=sys.stderr)
    else:
        sys.stdout.write(text)
    return report.exit_code()


def _raise_interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def cmd_canary(args: argparse.Namespace) -> int:
    from orgguard.verify.canary import run_canary

    try:
        manifest = _manifest(args.manifest)
        _csv(args.account, _ACCOUNT, "account")
        _csv(args.region, _REGION, "region")
        _check_regions(manifest, [args.region])
        if args.timeout < 1:
            raise UsageError(f"--timeout {args.timeout} must be at least 1 second")
    except UsageError as exc:
        print(f"orgguard canary: {exc}", file=sys.stderr)
        return EXIT_USAGE
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # so a CI cancel still cleans up
    try:
        result = run_canary(
            manifest,
            session=_session(),
            account_id=args.account,
            region=args.region,
            member_role_name=args.role_name,
            external_id=args.external_id,
            wait=args.wait,
            timeout=args.timeout,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.stdout.write(result.render())
    return 0 if result.passed else 1


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, help="orgguard-manifest.json written by `orgguard synth`")
    parser.add_argument(
        "--role-name",
        default="OrganizationAccountAccessRole",
        help="role assumed in each member account (default: %(default)s)",
    )
    parser.add_argument("--external-id", default=None, help="external ID the member role's trust policy requires")


def register(subparsers: Any) -> None:
    verify = subparsers.add_parser(
        "verify",
        help="check live AWS against the manifest, account by account and region by region",
        description="Exit codes: 0 all PASS, 1 some FAIL, 2 usage error, 3 no FAIL but some UNVERIFIED.",
    )
    _common(verify)
    verify.add_argument("--format", choices=FORMATS, default="table")
    verify.add_argument("--output", default=None, help="write the report to this file instead of stdout")
    verify.add_argument("--workers", type=int, default=16, help="parallel account-regions (default: %(default)s)")
    verify.add_argument("--accounts", default=None, help="only these member accounts (comma-separated)")
    verify.add_argument("--regions", default=None, help="only these regions (comma-separated)")
    verify.set_defaults(func=cmd_verify)

    canary = subparsers.add_parser(
        "canary",
        help="prove remediation live: open shapes revoked, others kept, everything cleaned up",
        description="Exit codes: 0 canary passed, 1 failed, 2 usage error.",
    )
    _common(canary)
    canary.add_argument("--account", required=True, help="member account to run the canary in")
    canary.add_argument("--region", required=True)
    canary.add_argument("--wait", choices=("automation", "config"), default="automation")
    canary.add_argument("--timeout", type=int, default=600, help="seconds to wait for remediation")
    canary.set_defaults(func=cmd_canary)
