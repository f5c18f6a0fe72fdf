"""`orgguard synth` and `orgguard schema`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orgguard.config.load import ConfigError

EXIT_USAGE = 2


def _synth(args: argparse.Namespace) -> int:
    from orgguard.synth.build import MANIFEST_FILE, synthesize
    from orgguard.synth.install import OutputError

    try:
        manifest = synthesize(Path(args.config), Path(args.out), hcl=args.hcl, account=args.account)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{exc.source}: {problem}", file=sys.stderr)
        print(f"orgguard: {len(exc.problems)} problem(s); nothing written, {args.out} left as it was", file=sys.stderr)
        return EXIT_USAGE
    except OutputError as exc:  # e.g. --out names a file; the output is left as it was
        print(f"orgguard: {exc}", file=sys.stderr)
        return EXIT_USAGE
    enabled = len(manifest.enabled_controls())
    stacks = f"{len(manifest.stacks)} stack(s)" if not args.account else f"1 of {len(manifest.stacks)} stack(s)"
    print(
        f"synthesized {stacks}, {enabled} control(s), {len(manifest.documents)} runbook(s) "
        f"into {args.out}; plan manifest {Path(args.out) / MANIFEST_FILE}"
    )
    return 0


def schema_json() -> str:
    from orgguard.config.models import Governance

    schema = Governance.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "orgguard governance file"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _schema(args: argparse.Namespace) -> int:
    text = schema_json()
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="validate a governance file and synthesize the stacks and plan manifest")
    p.add_argument("--config", default="governance.yaml", help="governance file (default: governance.yaml)")
    p.add_argument("--out", default="cdktf.out", help="output directory (default: cdktf.out)")
    p.add_argument("--hcl", action="store_true", help="also write HCL to OUT/hcl/<stack>/main.tf")
    p.add_argument(
        "--account",
        metavar="ID",
        help="account mode: write only this vended account's stack (and the shared modules), for a pipeline step "
        "per account; the plan manifest still covers every account",
    )
    p.set_defaults(func=_synth)
    s = sub.add_parser("schema", help="print the governance file's JSON Schema")
    s.add_argument("--output", help="write to this file instead of standard output")
    s.set_defaults(func=_schema)
