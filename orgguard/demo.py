"""`orgguard demo`: the whole loop on the local sandbox, no AWS account needed.

synthesize -> review -> terraform apply -> verify (all PASS) -> the opt-in layers at work -> canary -> drift ->
verify catches it. Exit 0 only when every step behaved as a user relies on: a faithful apply passes, the member
cannot turn VPC Block Public Access off, a finding reaches the central topic, the canary closes the open rules and
keeps the others, and each kind of drift fails its own check and nothing else.
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
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

from orgguard.controls import CATALOG
from orgguard.errors import SandboxError
from orgguard.manifest import Manifest
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER

ROOT = Path(__file__).resolve().parent.parent
POLICY_TYPE = "DECLARATIVE_POLICY_EC2"
# The catalog's opt-in controls (off unless a governance file enables them): the demo turns every one on.
OPT_IN = tuple(c for c in CATALOG.values() if not c.default_enabled)
# Check kinds of the opt-in layers and controls the demo turns on, marked in the verify summary.
NEW_KINDS = ("vpc-block-public-access", "vpc-bpa-", "notifications-")


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


def _overlay(text: str, audit_account: str) -> tuple[str, list[str]]:
    """Turn on the opt-in layers and controls (all off in the embedded default) in the sandbox copy only, so the
    demo shows them without changing what `governance.yaml` enables; returns the file and what was turned on."""
    data = yaml.safe_load(text)
    # Exclusions forbidden: with exclusions allowed a member admin could exempt their own VPCs (the verifier lists
    # them), so the demo shows the stricter setting the attack below cannot get around.
    data["vpc_block_public_access"] = {"mode": "block-ingress", "exclusions_allowed": False}
    data["notifications"] = {"account_id": audit_account, "email": ["secops@example.com"]}
    controls = data.setdefault("controls", {})
    for control in OPT_IN:
        controls[control.id] = {"enabled": True}  # at its default remediation (manual or off: approval-only)
    said = [
        "vpc_block_public_access: {mode: block-ingress, exclusions_allowed: false} (an EC2 declarative policy on "
        "the target OUs)",
        f"notifications: {{account_id: {audit_account} (the audit/delegated-admin account), "
        "email: [secops@example.com]}",
        *(f"controls.{c.id}: enabled, remediation {c.default_remediation} ({c.title})" for c in OPT_IN),
    ]
    return yaml.safe_dump(data, sort_keys=False), said


def _show_bpa(sb: Any, manifest: Manifest, accounts: list[str]) -> bool:
    """Each governed account and region reports the policy's mode, managed by the declarative policy; a member
    admin can neither turn it off nor exclude a VPC, and the mode is unchanged afterwards.

    AWS documents that accounts under the policy cannot use ModifyVpcBlockPublicAccessOptions or
    CreateVpcBlockPublicAccessExclusion (Organizations User Guide, declarative policy syntax, VPC Block Public
    Access); the error code the sandbox answers (OperationNotPermitted) is its own (docs/sandbox.md).
    """
    bpa = manifest.vpc_block_public_access
    assert bpa is not None
    ok = True
    for account in accounts:
        row = []
        for region in manifest.organization.regions:
            options = sb.session(account, region).client("ec2").describe_vpc_block_public_access_options()[
                "VpcBlockPublicAccessOptions"
            ]
            mode, managed = options.get("InternetGatewayBlockMode"), options.get("ManagedBy")
            ok &= mode == bpa.mode and managed == "declarative-policy"
            row.append(f"{region} {mode} (ManagedBy {managed})")
        print(f"  {account}: {'; '.join(row)}")
    account, region = accounts[0], manifest.organization.home_region
    ec2 = sb.session(account, region).client("ec2")  # OrganizationAccountAccessRole: the member's own admin
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    attacks = (
        ("ModifyVpcBlockPublicAccessOptions(off)",
         lambda: ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="off")),
        (f"CreateVpcBlockPublicAccessExclusion({vpc}, allow-bidirectional)",
         lambda: ec2.create_vpc_block_public_access_exclusion(
             VpcId=vpc, InternetGatewayExclusionMode="allow-bidirectional")),
    )
    for title, attack in attacks:
        try:
            attack()
        except ClientError as exc:
            error = exc.response["Error"]
            if error["Code"] != "OperationNotPermitted":
                print(f"UNEXPECTED: member admin in {account} {region} {title} -> {error['Code']} (not the policy's "
                      f"refusal): {error.get('Message', '')}")
                ok = False
                continue
            print(f"attack refused (the sandbox's emulation of the declarative policy): member admin in {account} "
                  f"{region} {title} -> {error['Code']}")
            continue
        print(f"UNEXPECTED: member admin in {account} {region} {title} succeeded")
        ok = False
    after = ec2.describe_vpc_block_public_access_options()["VpcBlockPublicAccessOptions"]
    if after.get("InternetGatewayBlockMode") != bpa.mode:
        print(f"UNEXPECTED: mode in {account} {region} is {after.get('InternetGatewayBlockMode')} after the attacks")
        return False
    print(f"  {account} {region} still {after.get('InternetGatewayBlockMode')} after the attacks")
    return ok


def _show_notification(sb: Any, manifest: Manifest, member: str, rule_prefix: str) -> bool:
    """A UDP 3389 rule open to the internet, evaluated on demand: NON_COMPLIANT in the member, the compliance
    change forwarded to the central bus, delivered to the topic and read from a queue subscribed to it."""
    n = manifest.notifications
    assert n is not None
    central = sb.session(n.account_id, n.region)
    sqs, sns = central.client("sqs"), central.client("sns")
    url = sqs.create_queue(QueueName="orgguard-demo-inbox")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # SNS delivers to a queue only if the queue's policy lets sns.amazonaws.com send for this topic (SNS Developer
    # Guide, "Subscribing an Amazon SQS queue to an Amazon SNS topic"); moto would deliver without it.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                       "Resource": queue, "Condition": {"ArnEquals": {"aws:SourceArn": n.topic_arn}}}],
    })})
    subscription = sns.subscribe(TopicArn=n.topic_arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    session = sb.session(member, n.region)
    ec2, config = session.client("ec2"), session.client("config")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="orgguard-demo-udp", Description="demo: UDP 3389", VpcId=vpc)[
        "GroupId"
    ]
    try:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ])
        rule = _real_rule_name(config, rule_prefix)
        config.start_config_rules_evaluation(ConfigRuleNames=[rule])
        print(f"member {member} {n.region}: {group} admits UDP 3389 from 0.0.0.0/0; StartConfigRulesEvaluation {rule}")
        deadline, found = time.monotonic() + 20, None
        while found is None and time.monotonic() < deadline:
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                event = json.loads(json.loads(m["Body"])["Message"])
                detail = event.get("detail", {})
                if detail.get("resourceId") == group and detail.get("configRuleName") == rule:
                    found = event
        if found is None:
            print(f"UNEXPECTED: no finding for {group} reached {n.topic_arn} within 20 s")
            return False
        verdict = found["detail"].get("newEvaluationResult", {}).get("complianceType")
        print(f"finding arrived: {found['detail-type']} {verdict} from account {found['account']} via bus "
              f"{n.bus_arn} -> topic {n.topic_arn} -> subscriber {queue}")
        return verdict == "NON_COMPLIANT" and found["account"] == member
    finally:  # leave nothing the verifier or the canary would meet: the extra subscriber, the queue, the group
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=url)
        ec2.delete_security_group(GroupId=group)
        ec2.delete_vpc(VpcId=vpc)


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

    drifts = []
    notifications = manifest.notifications
    if notifications is not None:
        forward = notifications.member_rules[0].name
        where = next((r for r in notifications.regions if r != notifications.region), notifications.region)

        def delete_member_rule() -> None:
            events = sessions(c, where).client("events")
            targets = events.list_targets_by_rule(Rule=forward)["Targets"]
            events.remove_targets(Rule=forward, Ids=[t["Id"] for t in targets])
            events.delete_rule(Name=forward)

        drifts.append(Drift("member-side notification rule deleted", c, where, f"notifications-member:{forward}",
                            delete_member_rule))
    return [
        Drift("remediation binding deleted", a, home, "remediation", delete_binding),
        Drift("runbook document edited", b, home, f"ssm-document:{doc.name}", edit_document),
        Drift("revoke role widened", c, "global", f"iam-role:{role.name}", widen_role),
        Drift("configuration recorder stopped", a, other, "config-recorder", stop_recorder),
        *drifts,
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

        _say("management account: enable the EC2 declarative policy type on the root (docs/operators.md)")
        orgs = sb.session().client("organizations")
        orgs.enable_policy_type(RootId=org.root_id, PolicyType=POLICY_TYPE)
        types = orgs.list_roots()["Roots"][0].get("PolicyTypes", [])
        print(f"root {org.root_id}: " + ", ".join(f"{t['Type']} {t['Status']}" for t in types))

        _say(f"synthesizing {config} for the sandbox organization, with the opt-in layers turned on")
        sandbox_config = workdir / "governance.sandbox.yaml"
        text, turned_on = _overlay(sb.governance_yaml(config), org.delegated_admin_account_id)
        sandbox_config.write_text(text)
        for line in turned_on:
            print(f"  turned on: {line}")
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
                new = "  (opt-in layer)" if kind.startswith(NEW_KINDS) else ""
                print(f"  {kind:<26} {c['PASS']:>4} PASS {c['FAIL']:>3} FAIL {c['UNVERIFIED']:>3} UNVERIFIED{new}")
            for control in OPT_IN:  # opt-in controls: their rows within the kinds above
                rows = [r for r in report.results if r.control == control.id]
                done = sum(1 for r in rows if r.status == "PASS")
                print(f"  {control.id:<33} {done:>4} PASS {len(rows) - done:>3} other  (opt-in control)")
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

        governed = org.target_accounts()  # under a target OU: the BPA policy, the runbooks, the member rules
        _say("VPC Block Public Access: the policy's mode in every governed account and region")
        shown = _show_bpa(sb, manifest, governed)
        if not shown:
            print("UNEXPECTED: VPC Block Public Access is not the policy's everywhere")
        ok &= shown

        _say("notifications: a NON_COMPLIANT finding in a member reaches the central bus and topic")
        # The opt-in control that restricts ports through the SG runbook: the all-protocols one, which sees UDP.
        opt_in = {c.id for c in OPT_IN}
        all_protocols = next(c for c in manifest.controls
                             if c.id in opt_in and PORTS_PARAMETER in c.remediation.parameters)
        ok &= _show_notification(sb, manifest, governed[-1], all_protocols.rule.name)

        _say("canary: open rules must be closed, every other rule must survive")
        member = governed[0]  # governed: under a target OU, so it holds the runbooks
        canary = run_canary(manifest, session=admin, account_id=member, region=org.home_region, timeout=120)
        print(canary.render())
        ok &= canary.passed

        _say("drift: five changes a real estate sees")
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
