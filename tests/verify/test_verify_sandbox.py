"""The verifier over HTTP against the sandbox organization: faithful passes, drift and lockout are caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from orgguard.verify import VerifyReport, verify

from .conftest import Deployed
from .org_deploy import client, member_accounts

ROOT = Path(__file__).resolve().parents[2]


def _run(d: Deployed, workers: int = 8) -> VerifyReport:
    return verify(d.manifest, session=d.sb.session(), workers=workers, progress=False, manifest_dir=d.out)


def _not_passing(report: VerifyReport) -> dict[tuple[str, str, str, str], str]:
    return {r.key: r.status for r in report.results if r.status != "PASS"}


def test_faithful_organization_deployment_passes_every_check(deployed: Deployed) -> None:
    report = _run(deployed)
    assert _not_passing(report) == {}, [r for r in report.results if r.status != "PASS"][:5]
    checks = {r.check.split(":")[0] for r in report.results}
    assert checks >= {
        "config-recorder",
        "config-rule",
        "remediation",
        "ssm-document",
        "iam-role",
        "conformance-pack",
        "stackset-instance",
        "scp",
    }
    accounts = {r.account_id for r in report.results if r.check == "config-recorder"}
    assert accounts == set(member_accounts(deployed.sb))
    assert report.exit_code() == 0


def test_each_kind_of_drift_fails_its_own_check_and_only_it(deployed: Deployed) -> None:
    sb, manifest = deployed.sb, deployed.manifest
    a, b, c, d = member_accounts(sb)[:4]
    home, other = sb.org.regions[0], sb.org.regions[1]
    # 1. a deleted remediation binding (restricted-ssh, account a, home region)
    cfg = client(sb, a, "config", home)
    ssh_rule = next(
        r["ConfigRuleName"]
        for r in cfg.describe_config_rules()["ConfigRules"]
        if r["ConfigRuleName"].startswith("orgguard-restricted-ssh-conformance-pack-")
    )
    cfg.delete_remediation_configuration(ConfigRuleName=ssh_rule)
    # 2. an edited document (account b, other region), made the default version
    ssm = client(sb, b, "ssm", other)
    doc = "orgguard-RevokePublicSgIngress"
    content = json.loads(ssm.get_document(Name=doc)["Content"])
    content["description"] = "edited by hand"
    version = ssm.update_document(Name=doc, Content=json.dumps(content), DocumentVersion="$LATEST")
    ssm.update_document_default_version(Name=doc, DocumentVersion=version["DocumentDescription"]["DocumentVersion"])
    # 3. a widened role (account c)
    iam = client(sb, c, "iam", home)
    role = manifest.role("orgguard-sg-revoke")
    policy_name = next(iter(role.permission_policies))
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role.name, PolicyName=policy_name, PolicyDocument=json.dumps(wide))
    # 4. a recorder stopped (account d, other region)
    rec_cfg = client(sb, d, "config", other)
    recorder = rec_cfg.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
    rec_cfg.stop_configuration_recorder(ConfigurationRecorderName=recorder)

    report = _run(deployed)
    assert _not_passing(report) == {
        ("remediation", "restricted-ssh", a, home): "FAIL",
        (f"ssm-document:{doc}", "", b, other): "FAIL",
        (f"iam-role:{role.name}", "", c, "global"): "FAIL",
        ("config-recorder", "", d, other): "FAIL",
    }
    reasons = {r.check.split(":")[0]: r.reason for r in report.by_status("FAIL")}
    assert "no remediation bound" in reasons["remediation"]
    assert "content" in reasons["ssm-document"]
    assert "ec2:*" in reasons["iam-role"]
    assert "stopped" in reasons["config-recorder"]
    assert report.exit_code() == 1


def test_account_whose_role_cannot_be_assumed_is_unverified_with_nonzero_exit(deployed: Deployed) -> None:
    locked = member_accounts(deployed.sb)[1]
    deployed.sb.lock_account(locked)
    report = _run(deployed)
    not_passing = _not_passing(report)
    assert not_passing, "a locked account must not pass"
    assert {k[2] for k in not_passing} == {locked}
    assert set(not_passing.values()) == {"UNVERIFIED"}
    org_view = ("stackset-instance", "conformance-pack")
    member_checks = [r for r in report.results if r.account_id == locked and not r.check.startswith(org_view)]
    assert member_checks and all(r.status == "UNVERIFIED" for r in member_checks)
    assert all("AccessDenied" in r.reason or "access denied" in r.reason for r in member_checks)
    # what the management account knows about the locked account is still read and still passes
    seen_from_org = [r for r in report.results if r.account_id == locked and r.check.startswith(org_view)]
    assert seen_from_org and all(r.status == "PASS" for r in seen_from_org)
    assert report.exit_code() == 3


def test_injected_throttling_still_gives_correct_results(deployed_throttled: Deployed) -> None:
    d = deployed_throttled
    d.sb.reset_stats()
    report = _run(d)
    assert _not_passing(report) == {}
    assert d.sb.stats().get("throttled", 0) > 0


def test_cli_writes_junit_over_http_and_exits_zero(deployed: Deployed, tmp_path: Path) -> None:
    manifest_file = deployed.out / "orgguard-manifest.json"
    junit = tmp_path / "verify.xml"
    env = {**os.environ, **deployed.sb.env()}
    done = subprocess.run(
        [sys.executable, "-m", "orgguard", "verify", "--manifest", str(manifest_file), "--format", "junit",
         "--output", str(junit), "--workers", "4"],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    root = ET.parse(junit).getroot()
    assert int(root.get("tests", "0")) > 50 and root.get("failures") == "0" and root.get("skipped") == "0"
    assert "passed, 0 failed, 0 unverified" in done.stderr


CALLER_CHECKS = {"organization-accounts", "conformance-pack", "stackset-instance", "scp", "control-tower"}
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}


def _actions(policy: dict) -> set[str]:
    return {a.lower() for s in policy["Statement"] for a in s["Action"]}


def test_documented_least_privilege_policies_cover_every_call_the_verifier_made(deployed: Deployed) -> None:
    from orgguard.verify.iam import caller_policy, member_read_policy

    report = _run(deployed)
    assert report.exit_code() == 0
    caller_ops = {op for (check, op) in report.api_operations if check in CALLER_CHECKS | {"assume-role"}}
    member_ops = {op for (check, op) in report.api_operations if check not in CALLER_CHECKS | {"assume-role"}}
    caller_ops -= NEEDS_NO_PERMISSION
    member_ops -= NEEDS_NO_PERMISSION
    assert {op.lower() for op in caller_ops} <= _actions(caller_policy(deployed.manifest))
    assert {op.lower() for op in member_ops} <= _actions(member_read_policy(deployed.manifest, "210000000001"))
    # and nothing in the member policy is unused apart from the real-AWS-only calls the sandbox answers otherwise
    unused = _actions(member_read_policy(deployed.manifest, "210000000001")) - {op.lower() for op in member_ops}
    assert unused <= {"config:getcustomrulepolicy", "config:describeconformancepackcompliance"}


def test_pack_deleted_in_one_region_fails_only_that_regions_pack_rules_and_bindings(deployed: Deployed) -> None:
    other = deployed.sb.org.regions[1]
    pack = next(p for p in deployed.manifest.conformance_packs if p.region == other)
    deployer = deployed.sb.session(deployed.manifest.organization.deployer_account_id)
    deployer.client("config", region_name=other).delete_organization_conformance_pack(
        OrganizationConformancePackName=pack.name
    )
    report = _run(deployed)
    not_passing = _not_passing(report)
    assert not_passing and set(not_passing.values()) == {"FAIL"}
    assert {k[3] for k in not_passing} == {other}
    assert {k[0] for k in not_passing} == {
        f"conformance-pack:{pack.name}",
        "config-rule",
        "remediation",
        "remediation-exceptions",  # nothing remediates there either (orgguard/verify/exceptions.py)
        "noncompliant-resources",
    }
    members = set(member_accounts(deployed.sb))
    assert {k[2] for k in not_passing if k[0].startswith("conformance-pack")} == members
