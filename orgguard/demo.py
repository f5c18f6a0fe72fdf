"""`orgguard demo`: the whole loop on the local sandbox, no AWS account needed.

synthesize -> review -> terraform apply -> verify (all PASS) -> canary -> drift -> verify catches it.
Exit 0 only when every step behaved as a user relies on: a faithful apply passes, the canary closes the
open rules and keeps the others, and each kind of drift fails its own check and nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3

from orgguard.errors import SandboxError
from orgguard.manifest import Manifest
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Drift:
    """One deliberate change to a deployed control, and the check that must catch it."""

    title: str
    account_id: str
    region: str
    check: str  # verifier check name (prefix) that must FAIL for this account and region
    apply: Callable[[], None]


def _say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _real_rule_name(config, prefix: str) -> str:
    names = [r["ConfigRuleName"] for p in config.get_paginator("describe_config_rules").paginate()
             for r in p["ConfigRules"]]
    matches = [n for n in names if n.startswith(prefix)]
    if not matches:
        raise SandboxError(f"no deployed rule starting with {prefix}: {names}")
    return matches[0]


def _drifts(manifest: Manifest, sessions: Callable[[str, str], boto3.Session], members: list[str]) -> list[Drift]:
    home = manifest.organization.home_region
    other = next((r for r in manifest.organization.regions if r != home), home)
    # The first control remediated by the SG revoke runbook (restricted SSH, in catalog order).
    ssh = next(c for c in manifest.controls if PORTS_PARAMETER in c.remediation.parameters)
    doc = manifest.document(ssh.remediation.document or "")
    role = manifest.role(ssh.remediation.role or "")
    a, b, c = members[0], members[1 % len(members)], members[2 % len(members)]

    def delete_binding() -> None:
        config = sessions(a, home).client("config")
        config.delete_remediation_configuration(ConfigRuleName=_real_rule_name(config, ssh.rule.name))

    def edit_document() -> None:
        ssm = sessions(b, home).client("ssm")
        content = json.loads(ssm.get_document(Name=doc.name)["Content"])
        content["description"] = content.get("description", "") + " (edited by hand)"
        new = ssm.update_document(Name=doc.name, Content=json.dumps(content), DocumentVersion="$LATEST")
        version = new["DocumentDescription"]["DocumentVersion"]
        ssm.update_document_default_version(Name=doc.name, DocumentVersion=version)

    def widen_role() -> None:
        iam = sessions(c, home).client("iam")
        (policy_name,) = role.permission_policies
        policy = json.loads(json.dumps(role.permission_policies[policy_name]).replace("${AWS::AccountId}", c))
        policy["Statement"].append({"Sid": "Widened", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
        iam.put_role_policy(RoleName=role.name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))

    def stop_recorder() -> None:
        config = sessions(a, other).client("config")
        for recorder in config.describe_configuration_recorders()["ConfigurationRecorders"]:
            config.stop_configuration_recorder(ConfigurationRecorderName=recorder["name"])

    return [
        Drift("remediation binding deleted", a, home, "remediation", delete_binding),
        Drift("runbook document edited", b, home, f"ssm-document:{doc.name}", edit_document),
        Drift("revoke role widened", c, "global", f"iam-role:{role.name}", widen_role),
        Drift("configuration recorder stopped", a, other, "config-recorder", stop_recorder),
    ]


def run(workdir: Path, config: Path, workers: int) -> int:
    from orgguard.review.render import render_report  # noqa: F401 - imported to fail early if missing
    from orgguard.sandbox import Sandbox
    from orgguard.synth.build import MANIFEST_FILE, synthesize
    from orgguard.verify import render, verify
    from orgguard.verify.canary import run_canary

    workdir.mkdir(parents=True, exist_ok=True)
    ok = True
    started = time.monotonic()
    _say("starting the local sandbox (moto server on 127.0.0.1 with a fake organization)")
    with Sandbox(workdir / "sandbox") as sb:
        org = sb.org
        print(f"endpoint {sb.endpoint_url}; management {org.management_account_id}; delegated admin "
              f"{org.delegated_admin_account_id}; members {', '.join(sorted(org.accounts))}; OUs "
              f"{', '.join(f'{n}={i}' for n, i in org.ous.items())}; target OUs {', '.join(org.target_ous)}")
        os.environ.update(sb.env())

        _say(f"synthesizing {config} for the sandbox organization")
        sandbox_config = workdir / "governance.sandbox.yaml"
        sandbox_config.write_text(sb.governance_yaml(config))
        out = workdir / "cdktf.out"
        manifest = synthesize(sandbox_config, out)
        manifest_path = out / MANIFEST_FILE
        print(f"{len(manifest.stacks)} stacks, {len(manifest.enabled_controls())} controls -> {out}")

        _say("plan report for compliance owners")
        from orgguard.cli import main as cli

        report = workdir / "plan-report.html"
        cli(["report", "--manifest", str(manifest_path), "--format", "html", "--output", str(report)])

        _say("terraform apply to the sandbox (real terraform, real provider)")
        sb.apply(out)
        print("applied every stack")

        admin = sb.session(org.delegated_admin_account_id)

        def check(label: str) -> list:
            """Verify; print a summary per check kind and every non-PASS row; keep the full reports as files."""
            report = verify(manifest, session=admin, workers=workers, progress=False, manifest_dir=out)
            stem = workdir / f"verify-{label.replace(' ', '-')}"
            for fmt, suffix in (("table", ".txt"), ("junit", ".xml"), ("markdown", ".md")):
                stem.with_suffix(suffix).write_text(render(report, fmt))  # type: ignore[arg-type]
            kinds: dict[str, dict[str, int]] = {}
            for r in report.results:
                kind = kinds.setdefault(r.check.split(":")[0], {"PASS": 0, "FAIL": 0, "UNVERIFIED": 0})
                kind[r.status] += 1
            for kind, c in sorted(kinds.items()):
                print(f"  {kind:<20} {c['PASS']:>4} PASS {c['FAIL']:>3} FAIL {c['UNVERIFIED']:>3} UNVERIFIED")
            for r in report.results:
                if r.status != "PASS":
                    print(f"  {r.status} {r.check} {r.control or '-'} {r.account_id} {r.region}: {r.reason}")
            counts = {s: sum(1 for r in report.results if r.status == s) for s in ("PASS", "FAIL", "UNVERIFIED")}
            print(f"{label}: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['UNVERIFIED']} UNVERIFIED "
                  f"(full report: {stem.with_suffix('.txt')}, JUnit: {stem.with_suffix('.xml')})")
            return report.results

        _say("verify: every control in every account and region")
        results = check("faithful apply")
        if any(r.status != "PASS" for r in results):
            print("UNEXPECTED: the faithful apply did not verify clean")
            ok = False

        _say("canary: open rules must be closed, every other rule must survive")
        member = org.target_accounts()[0]  # governed: under a target OU, so it holds the runbooks
        canary = run_canary(manifest, session=admin, account_id=member, region=org.home_region, timeout=120)
        print(canary.render())
        ok &= canary.passed

        _say("drift: four changes a real estate sees")
        members = org.target_accounts()  # the Security OU (audit, log archive) is not governed by the plan
        drifts = _drifts(manifest, lambda acct, region: sb.session(acct, region), members)
        for d in drifts:
            d.apply()
            print(f"- {d.title}: account {d.account_id}, {d.region}")

        _say("verify again: each drift must be caught, and nothing else")
        results = check("after drift")
        failures = [r for r in results if r.status != "PASS"]
        for d in drifts:
            caught = [r for r in failures if r.account_id == d.account_id and r.region == d.region
                      and r.check.startswith(d.check)]
            print(f"{'CAUGHT' if caught else 'MISSED'}: {d.title} ({d.check} in {d.account_id} {d.region})")
            ok &= bool(caught)
        expected = {(d.account_id, d.region, d.check) for d in drifts}
        stray = [r for r in failures
                 if not any(r.account_id == a and r.region == reg and r.check.startswith(c) for a, reg, c in expected)]
        for r in stray:
            print(f"UNEXPECTED: {r.check} {r.account_id} {r.region} {r.status}: {r.reason}")
        ok &= not stray
    _say(f"demo {'succeeded' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s; files in {workdir}")
    return 0 if ok else 1


def _cmd(args: argparse.Namespace) -> int:
    return run(Path(args.workdir), Path(args.config), args.workers)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole loop on the local sandbox: synth, apply, verify, canary, drift")
    p.add_argument("--config", default=str(ROOT / "governance.yaml"), help="base governance file")
    p.add_argument("--workdir", default=".sandbox/demo", help="where the demo writes (default .sandbox/demo)")
    p.add_argument("--workers", type=int, default=8)
    p.set_defaults(func=_cmd)


if __name__ == "__main__":
    sys.exit(run(Path(".sandbox/demo"), ROOT / "governance.yaml", 8))
