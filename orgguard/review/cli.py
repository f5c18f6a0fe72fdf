"""`orgguard report`: the plan review, the diff against the previous plan, and the approval gate.

Exit codes: 0 ok (or gate passed), 1 gate refused, 2 usage error or invalid manifest/approval.
The report goes to standard output or --output; the gate verdict also goes to standard error so
a pipeline log shows it even when the report is written to a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from orgguard.exitcodes import ExitCode
from orgguard.manifest import MANIFEST_FILE, Manifest, ManifestError, load_manifest
from orgguard.review.approval import GateResult, evaluate_gate, load_approval
from orgguard.review.diff import diff_manifests
from orgguard.review.embedded import embedded_exemption_problems, inline_body_problems
from orgguard.review.errors import ReviewError
from orgguard.review.render import render_report


class _Refused(Exception):
    """Several one-line problems at once (a manifest can have more than one)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems


def read_manifest(path: Path, role: str) -> Manifest:
    """Load a manifest through the one loader (bounded, schema- and hash-checked); the plan under review
    must match the files beside it, a previous plan may have been archived alone. The exemptions embedded in
    the runbook files beside the plan must be the manifest's own: the report and the gate read that list."""
    files = "if_present" if role == "manifest" else "skip"
    try:
        manifest = load_manifest(path, files=files, role=role)
    except ManifestError as exc:
        raise _Refused(exc.problems) from None
    who = f"{role} {path}"
    problems = (
        embedded_exemption_problems(manifest, path.parent, who) + inline_body_problems(manifest, path.parent, who)
        if role == "manifest"
        else []
    )
    if problems:
        raise _Refused(problems)
    return manifest


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="Render the plan for compliance review, diff it, and gate risky changes",
        description="Render the plan manifest for compliance review, diff it against the previous plan, "
        "and gate risky changes.",
    )
    parser.add_argument("--manifest", required=True, type=Path, help=f"{MANIFEST_FILE} written by `orgguard synth`")
    parser.add_argument("--format", choices=("markdown", "html"), default="markdown")
    parser.add_argument("--output", type=Path, help="write the report here instead of standard output")
    parser.add_argument("--against", type=Path, metavar="PREVIOUS_MANIFEST", help="diff against this plan")
    parser.add_argument(
        "--gate",
        action="store_true",
        help="exit 1 when the diff has a flagged change that no --approval covers "
        "(without --against, the plan counts as a first deployment)",
    )
    parser.add_argument("--approval", type=Path, help="approval file (YAML/JSON) naming this manifest's sha256")
    parser.add_argument("--json-verdict", action="store_true", help="print the gate verdict as JSON on stderr")
    parser.set_defaults(func=run)


def _verdict_json(result: GateResult, sha: str) -> str:
    return json.dumps(
        {
            "passed": result.passed,
            "manifest_sha256": sha,
            "summary": result.summary,
            "approved_flags": [f.__dict__ for f in result.approved_flags],
            "refused_flags": [f.__dict__ for f in result.refused_flags],
            "approved_by": result.approval.approved_by if result.approval and result.passed else None,
        },
        sort_keys=True,
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ReviewError as exc:
        print(f"orgguard report: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except _Refused as exc:
        for line in exc.problems:
            print(f"orgguard report: error: {line}", file=sys.stderr)
        return ExitCode.USAGE


def _run(args: argparse.Namespace) -> int:
    if args.approval and not args.gate:
        raise ReviewError("--approval only applies with --gate; add --gate or drop --approval")
    manifest = read_manifest(args.manifest, "manifest")
    previous = read_manifest(args.against, "previous manifest") if args.against else None
    diff = diff_manifests(previous, manifest) if (previous or args.gate) else None
    gate = None
    if args.gate and diff is not None:
        approval = load_approval(args.approval) if args.approval else None
        gate = evaluate_gate(diff, approval)
    text = render_report(manifest, args.format, diff=diff, gate=gate)
    if args.output:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ReviewError(f"cannot write {args.output}: {exc.strerror}; choose a writable --output") from exc
        print(f"wrote {args.format} review of manifest {manifest.sha256()} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if gate is None:
        return ExitCode.OK
    for line in gate.lines():
        print(line, file=sys.stderr)
    if args.json_verdict:
        print(_verdict_json(gate, manifest.sha256()), file=sys.stderr)
    return gate.exit_code
