"""`orgguard verify` and `orgguard canary`: argument parsing, input validation, exit codes."""

from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path
from typing import Any

import boto3

from orgguard.errors import UsageError  # bad input: printed as one line, exit code 2
from orgguard.exitcodes import ExitCode
from orgguard.manifest import Manifest, ManifestError, load_manifest
from orgguard.verify.binding import BindingError, bind
from orgguard.verify.render import FORMATS

_ACCOUNT = re.compile(r"^[0-9]{12}$")  # ASCII digits only: \d would also take full-width and Arabic-Indic ones


def _csv(value: str | None, pattern: re.Pattern[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if pattern is not None and not pattern.match(v)]
    if bad or not items:
        raise UsageError(
            f"--{what} {value[:80]!r} is not a comma-separated list of {what} (bad: {', '.join(bad)[:80] or 'empty'})"
        )
    return items


def _check_regions(manifest: Manifest, regions: list[str] | None) -> None:
    """The manifest's own region list is the pattern: a region it does not cover cannot be verified."""
    unknown = [r for r in regions or [] if r not in manifest.organization.regions]
    if unknown:
        raise UsageError(
            f"--regions: {', '.join(unknown)[:120]} not in the manifest "
            f"(it covers {', '.join(manifest.organization.regions)})"
        )


def _session() -> boto3.Session:
    return boto3.Session()


def _write_atomically(path: Path, text: str) -> None:
    """A report is replaced whole or not at all, so an interrupted run never leaves half of one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _refuse(command: str, problems: list[str]) -> ExitCode:
    for line in problems:
        print(f"orgguard {command}: {line}", file=sys.stderr)
    return ExitCode.USAGE


def cmd_verify(args: argparse.Namespace) -> int:
    """Everything local is checked first (manifest integrity, approval, options): no AWS call on bad input."""
    from orgguard.verify import render, verify

    try:
        if args.workers < 1 or args.workers > 256:
            raise UsageError(f"--workers {args.workers} is out of range: use 1 to 256")
        manifest, evidence = bind(Path(args.manifest), Path(args.approval) if args.approval else None)
        accounts = _csv(args.accounts, _ACCOUNT, "accounts")
        regions = _csv(args.regions, None, "regions")
        _check_regions(manifest, regions)
        if args.output and not Path(args.output).resolve().parent.is_dir():
            raise UsageError(f"--output {args.output}: its directory does not exist; create it or choose another")
    except BindingError as exc:
        return _refuse("verify", exc.problems)
    except UsageError as exc:
        return _refuse("verify", [str(exc)])
    for warning in evidence.warnings:
        print(f"orgguard verify: WARNING: {warning}", file=sys.stderr)
    report = verify(
        manifest,
        session=_session(),
        member_role_name=args.role_name,
        external_id=args.external_id,
        workers=args.workers,
        accounts=accounts,
        regions=regions,
        manifest_dir=Path(args.manifest).resolve().parent,
        pack_templates=args.pack_templates,
    )
    report.evidence = evidence
    text = render(report, args.format)
    if args.output:
        try:
            _write_atomically(Path(args.output), text)
        except OSError as exc:
            print(
                f"orgguard verify: cannot write {args.output} ({exc.strerror}); the report follows on stdout",
                file=sys.stderr,
            )
            sys.stdout.write(text)
            return ExitCode.USAGE
        print(render(report, "table").splitlines()[-1], file=sys.stderr)
    else:
        sys.stdout.write(text)
    return report.exit_code()


def _raise_interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def cmd_canary(args: argparse.Namespace) -> int:
    from orgguard.verify.canary import run_canary

    try:
        manifest = load_manifest(args.manifest, files="require")
        _csv(args.account, _ACCOUNT, "account")
        if args.region not in manifest.organization.regions:
            raise UsageError(
                f"--region {args.region[:40]} not in the manifest "
                f"(it covers {', '.join(manifest.organization.regions)})"
            )
        if args.timeout < 1:
            raise UsageError(f"--timeout {args.timeout} must be at least 1 second")
    except ManifestError as exc:
        return _refuse("canary", exc.problems)
    except UsageError as exc:
        return _refuse("canary", [str(exc)])
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
    return ExitCode.OK if result.passed else ExitCode.FAILED


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
        description="Exit codes: 0 all PASS, 1 some FAIL, 2 usage error or a manifest that is not intact, not "
        "approved (with --approval) or has nothing to verify, 3 no FAIL but some UNVERIFIED.",
    )
    _common(verify)
    verify.add_argument("--format", choices=FORMATS, default="table")
    verify.add_argument("--output", default=None, help="write the report to this file instead of stdout")
    verify.add_argument("--workers", type=int, default=16, help="parallel account-regions (default: %(default)s)")
    verify.add_argument("--accounts", default=None, help="only these member accounts (comma-separated)")
    verify.add_argument("--regions", default=None, help="only these regions (comma-separated)")
    verify.add_argument(
        "--approval",
        default=None,
        metavar="FILE",
        help="approval file (as for `orgguard report --gate --approval`): refuse unless it names this manifest's "
        "sha256; the reports record it as evidence",
    )
    verify.add_argument(
        "--pack-templates",
        action="store_true",
        help="also compare each member account's conformance-pack CloudFormation template with the manifest's "
        "(config:DescribeConformancePackStatus + cloudformation:GetTemplate; see docs/verifier.md)",
    )
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
