"""The synthesized SCPs deny every member-account off-switch and leave the exempt pipelines alone.

Proven by evaluating the policies (orgguard.iam.evaluate), request by request, not by reading their
text. Each request is built from the Service Authorization Reference as parliament ships it: the action
must exist there, and the resource is the ARN AWS authorizes for it (``*`` for an action with no
resource type), filled in with the names this plan really deploys.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import parliament
import pytest

from orgguard.iam.evaluate import Decision, Request, scp_decision
from orgguard.iam.policy import minified
from orgguard.manifest import Manifest, ScpEntry, load_manifest
from orgguard.synth.build import MANIFEST_FILE, synthesize
from orgguard.synth.scp import (
    ANYWHERE,
    DOCUMENT,
    EXECUTION,
    EXEMPT_ROLE,
    LZA_FUNCTION,
    LZA_STACK,
    LZA_SWITCHES,
    MAX_POLICIES,
    OFF_SWITCHES,
    PACK,
    REMEDIATION,
    ROLE,
    RULE,
    SCP_MAX_CHARACTERS,
    SERVICE_ROLE,
)
from tests.synth.conftest import run_cli, stack_json, variant

MEMBER = "210000000001"
# An account id in full-width digits: \d would take it, IAM would not.
FULLWIDTH_ACCOUNT = "arn:aws:iam::" + "".join(chr(0xFF10 + int(c)) for c in "123456789012") + ":role/Pipeline"
REGION = "eu-west-1"

# The previous SCP (before this change), verbatim, for the "old behaviour" tests.
OLD_EXEMPT = {
    "ArnNotLike": {
        "aws:PrincipalArn": ["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/AWSControlTowerExecution"]
    }
}
OLD_SCP = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": [
                "iam:AttachRolePolicy",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
            ],
            "Resource": "arn:aws:iam::*:role/orgguard-*",
            "Condition": OLD_EXEMPT,
        },
        {
            "Effect": "Deny",
            "Action": [
                "ssm:DeleteDocument",
                "ssm:ModifyDocumentPermission",
                "ssm:UpdateDocument",
                "ssm:UpdateDocumentDefaultVersion",
            ],
            "Resource": "arn:aws:ssm:*:*:document/orgguard-*",
            "Condition": OLD_EXEMPT,
        },
        {
            "Effect": "Deny",
            "Action": [
                "config:DeleteConformancePack",
                "config:DeleteRemediationConfiguration",
                "config:PutRemediationConfigurations",
            ],
            "Resource": [
                "arn:aws:config:*:*:conformance-pack/OrgConformsPack-orgguard-guardrails-*/*",
                "arn:aws:config:*:*:remediation-configuration/orgguard-*",
            ],
            "Condition": OLD_EXEMPT,
        },
        {
            "Effect": "Deny",
            "Action": [
                "config:DeleteConfigurationRecorder",
                "config:DeleteDeliveryChannel",
                "config:PutConfigurationRecorder",
                "config:StopConfigurationRecorder",
            ],
            "Resource": "*",
            "Condition": OLD_EXEMPT,
        },
        {
            "Effect": "Deny",
            "Action": [
                "events:DeleteRule",
                "events:DisableRule",
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
            ],
            "Resource": "arn:aws:events:*:*:rule/orgguard-*",
            "Condition": OLD_EXEMPT,
        },
    ],
}

# Ordinary member principals, including look-alikes of the exempt names (ArnNotLike is case-sensitive and
# matches the whole role path).
ORDINARY = [
    f"arn:aws:iam::{MEMBER}:role/Admin",
    f"arn:aws:iam::{MEMBER}:root",
    f"arn:aws:iam::{MEMBER}:user/developer",
    f"arn:aws:iam::{MEMBER}:role/aws-reserved/sso.amazonaws.com/{REGION}/AWSReservedSSO_AdministratorAccess_0a1b",
    f"arn:aws:iam::{MEMBER}:role/OrganizationAccountAccessRole",
    f"arn:aws:iam::{MEMBER}:role/awscontroltowerexecution",
    f"arn:aws:iam::{MEMBER}:role/AWSControlTowerExecution2",
    f"arn:aws:iam::{MEMBER}:role/team/AWSControlTowerExecution",
    f"arn:aws:iam::{MEMBER}:role/stacksets-exec",
    f"arn:aws:iam::{MEMBER}:role/my-cdk-accel-role",
    # Landing Zone Accelerator's roles are exempt only when opted in (review item 5).
    f"arn:aws:iam::{MEMBER}:role/AWSAccelerator-Account-CustomResourceRole",
    f"arn:aws:iam::{MEMBER}:role/cdk-accel-cfn-exec-role-{MEMBER}-{REGION}",
]
# One real role of each default exempt pipeline.
EXEMPT = [
    f"arn:aws:iam::{MEMBER}:role/stacksets-exec-5d3ab8c4c9ec2b6a0d5e2f3c4b5a6978",
    f"arn:aws:iam::{MEMBER}:role/AWSControlTowerExecution",
    f"arn:aws:iam::{MEMBER}:role/AWSAFTAdmin",
    f"arn:aws:iam::{MEMBER}:role/AWSAFTExecution",
    f"arn:aws:iam::{MEMBER}:role/AWSAFTService",
]
LZA = [
    f"arn:aws:iam::{MEMBER}:role/AWSAccelerator-Account-CustomResourceRole",
    f"arn:aws:iam::{MEMBER}:role/cdk-accel-cfn-exec-role-{MEMBER}-{REGION}",
]


@cache
def sar() -> dict[str, Any]:
    """Service Authorization Reference, as parliament ships it: prefix -> service entry."""
    path = Path(parliament.__file__).parent / "iam_definition.json"
    return {s["prefix"]: s for s in json.loads(path.read_text())}


def sar_resource_templates(action: str) -> list[str]:
    """ARN templates the action authorizes on; [] when it has no resource type (requested on ``*``)."""
    service, name = action.split(":")
    entry = sar()[service]
    privilege = next((p for p in entry["privileges"] if p["privilege"] == name), None)
    assert privilege is not None, f"{action} is not in the Service Authorization Reference: it would deny nothing"
    types = {r["resource_type"].rstrip("*") for r in privilege["resource_types"]} - {""}
    return [r["arn"] for r in entry["resources"] if r["resource"] in types]


def exempt_instances(manifest: Manifest) -> list[str]:
    """A concrete role ARN for each exempt pattern the plan's SCP names (each * filled in)."""
    patterns = manifest.scp.policy["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    return [p.replace("::*:", f"::{MEMBER}:").replace("*", "x1") for p in patterns]


def names(manifest: Manifest) -> dict[str, list[dict[str, str]]]:
    """The resources this plan deploys into a member account, as the ARN templates' variables."""
    rules = [
        f"{c.rule.name}-conformance-pack-x1y2z3ab/6f1c2d3e-aaaa-bbbb-cccc-0123456789ab"
        for c in manifest.enabled_controls()
    ]
    fast = manifest.fast_path
    return {
        ANYWHERE: [{"RecorderName": "default", "RecorderId": "a1b2c3"}],
        ROLE: [{"RoleNameWithPath": r.path.lstrip("/") + r.name} for r in manifest.roles]
        + [{"RoleNameWithPath": "orgguard-squatted-later"}],
        EXEMPT_ROLE: [{"RoleNameWithPath": arn.split(":role/")[1]} for arn in exempt_instances(manifest)],
        SERVICE_ROLE: [
            {"RoleNameWithPath": f"aws-service-role/{svc}/{role}"}
            for svc, role in [
                ("config.amazonaws.com", "AWSServiceRoleForConfig"),
                ("config-conforms.amazonaws.com", "AWSServiceRoleForConfigConforms"),
                ("remediation.config.amazonaws.com", "AWSServiceRoleForConfigRemediation"),
            ]
        ],
        DOCUMENT: [{"DocumentName": d.name} for d in manifest.documents],
        PACK: [
            {"ConformancePackName": f"OrgConformsPack-{p.name}-x1y2z3ab", "ConformancePackId": "conformance-pack-q"}
            for p in manifest.conformance_packs[:1]
        ],
        REMEDIATION: [{"RemediationConfigurationId": r} for r in rules],
        RULE: ([{"RuleName": fast.route_rule_name(i + 1)} for i in range(len(fast.routes))] if fast else [])
        + [{"RuleName": r.name} for r in (manifest.notifications.member_rules if manifest.notifications else [])],
        EXECUTION: [{"AutomationExecutionId": "4c1d2e3f-aaaa-bbbb-cccc-0123456789ab"}],
        LZA_FUNCTION: [{"FunctionName": "AWSAccelerator-SecurityStack-ConfigRuleRemediation-1a2b3c"}],
        LZA_STACK: [{"StackName": f"AWSAccelerator-SecurityStack-{MEMBER}-{REGION}", "Id": "5e6f7a8b"}],
    }


MARKERS = {
    ANYWHERE: "configuration-recorder/",
    ROLE: ":role/",
    EXEMPT_ROLE: ":role/",
    SERVICE_ROLE: ":role/",
    DOCUMENT: ":document/",
    PACK: "conformance-pack/",
    REMEDIATION: "remediation-configuration/",
    RULE: ":rule/${RuleName}",
    EXECUTION: ":automation-execution/",
    LZA_FUNCTION: ":function:",
    LZA_STACK: ":stack/",
}


def requests_for(manifest: Manifest, action: str, target: str) -> list[Request]:
    templates = [t for t in sar_resource_templates(action) if MARKERS[target] in t]
    if target == ANYWHERE and not templates:
        assert not sar_resource_templates(action), f"{action}: no recorder ARN, yet it has resource types"
        return [Request(action, "*")]
    assert templates, f"{action} never authorizes on a {target} ARN: the deny would match nothing"
    out = []
    for values in names(manifest)[target]:
        arn = templates[0].replace("${Partition}", "aws").replace("${Region}", REGION).replace("${Account}", MEMBER)
        for var, value in values.items():
            arn = arn.replace("${" + var + "}", value)
        assert "${" not in arn, arn
        out.append(Request(action, arn))
    assert out, f"{action} on {target}: this plan deploys nothing to try it on"
    return out


def problem_lines(stderr: str) -> list[str]:
    """The CLI's problem lines, without its closing summary ("orgguard: N problem(s); nothing written ...")."""
    return [line for line in stderr.strip().splitlines() if not line.startswith("orgguard:")]


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def as_principal(request: Request, principal: str) -> Request:
    """The request as ``principal`` makes it, with the context keys IAM adds: the caller's account and, for a
    resource that names one, the resource's account."""
    context = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account_of(principal) or ""}
    if (resource_account := account_of(request.resource)) is not None:
        context["aws:ResourceAccount"] = resource_account
    return Request(request.action, request.resource, context)


def off_switch_requests(manifest: Manifest, switches: Any = OFF_SWITCHES) -> list[tuple[str, Request]]:
    return [(s.why, r) for s in switches for t in s.targets for r in requests_for(manifest, s.action, t)]


def policies(entry: ScpEntry) -> list[dict[str, Any]]:
    return [p.policy for p in entry.policies]


def test_every_denied_action_exists_and_every_resource_pattern_fits_its_arn(org_manifest: Manifest) -> None:
    for statement in org_manifest.scp.policy["Statement"]:
        for action in statement["Action"]:
            sar_resource_templates(action)  # asserts it exists
    assert len(off_switch_requests(org_manifest)) > len(OFF_SWITCHES)


def test_each_off_switch_is_denied_to_every_ordinary_member_principal(org_manifest: Manifest) -> None:
    scps = policies(org_manifest.scp)
    open_ = [
        f"{r.action} on {r.resource} by {p} ({why})"
        for why, r in off_switch_requests(org_manifest)
        for p in ORDINARY
        if scp_decision(scps, as_principal(r, p)) is not Decision.EXPLICIT_DENY
    ]
    assert open_ == []


def test_the_exempt_pipelines_keep_every_off_switch(org_manifest: Manifest) -> None:
    scps = policies(org_manifest.scp)
    locked_out = [
        f"{r.action} on {r.resource} by {p}"
        for _, r in off_switch_requests(org_manifest)
        for p in EXEMPT
        if scp_decision(scps, as_principal(r, p)) is not Decision.ALLOW
    ]
    assert locked_out == []


@pytest.mark.parametrize(
    ("action", "resource", "principal"),
    [
        ("config:PutRemediationExceptions", "*", "arn:aws:iam::1:role/Admin"),
        (
            "config:DisassociateResourceTypes",
            "arn:aws:config:eu-west-1:1:configuration-recorder/default/a",
            "arn:aws:iam::1:role/Admin",
        ),
        ("ssm:CreateDocument", "arn:aws:ssm:eu-west-1:1:document/orgguard-sg-revoke", "arn:aws:iam::1:role/Admin"),
        ("iam:CreateRole", "arn:aws:iam::1:role/orgguard-sg-revoke", "arn:aws:iam::1:role/Admin"),
        ("iam:CreateRole", "arn:aws:iam::1:role/stacksets-exec-mine", "arn:aws:iam::1:role/Admin"),
        ("iam:PassRole", "arn:aws:iam::1:role/AWSAFTExecution", "arn:aws:iam::1:role/Admin"),
        ("organizations:LeaveOrganization", "*", "arn:aws:iam::1:root"),
        (
            "config:PutConformancePack",
            "arn:aws:config:eu-west-1:1:conformance-pack/OrgConformsPack-orgguard-guardrails-ab/conformance-pack-q",
            "arn:aws:iam::1:role/Admin",
        ),
    ],
)
def test_off_switches_the_previous_scp_left_open_are_denied_now(
    org_manifest: Manifest, action: str, resource: str, principal: str
) -> None:
    request = as_principal(Request(action, resource), principal)
    assert scp_decision([OLD_SCP], request) is Decision.ALLOW
    assert scp_decision(policies(org_manifest.scp), request) is Decision.EXPLICIT_DENY


def test_the_previous_scp_locked_aft_out_and_this_one_does_not(org_manifest: Manifest) -> None:
    request = Request("config:PutConfigurationRecorder", "*")
    for pipeline in EXEMPT[2:]:
        assert scp_decision([OLD_SCP], as_principal(request, pipeline)) is Decision.EXPLICIT_DENY
        assert scp_decision(policies(org_manifest.scp), as_principal(request, pipeline)) is Decision.ALLOW


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        # The workloads' own resources.
        ("ssm:UpdateDocument", f"arn:aws:ssm:{REGION}:{MEMBER}:document/app-runbook"),
        ("iam:CreateRole", f"arn:aws:iam::{MEMBER}:role/app-task-role"),
        ("iam:PassRole", f"arn:aws:iam::{MEMBER}:role/app-task-role"),
        ("events:PutRule", f"arn:aws:events:{REGION}:{MEMBER}:rule/app-schedule"),
        ("config:PutConfigRule", f"arn:aws:config:{REGION}:{MEMBER}:config-rule/config-rule-abc123"),
        # Switching guardrails back on is never denied.
        ("config:StartConfigurationRecorder", f"arn:aws:config:{REGION}:{MEMBER}:configuration-recorder/default/a"),
        ("config:AssociateResourceTypes", f"arn:aws:config:{REGION}:{MEMBER}:configuration-recorder/default/a"),
        ("config:DeleteRemediationExceptions", "*"),
        ("config:StartRemediationExecution", f"arn:aws:config:{REGION}:{MEMBER}:config-rule/config-rule-abc123"),
        # What the verifier and the canary do in a member account.
        ("iam:GetRole", f"arn:aws:iam::{MEMBER}:role/orgguard-sg-revoke"),
        ("iam:GetRolePolicy", f"arn:aws:iam::{MEMBER}:role/orgguard-sg-revoke"),
        ("ssm:GetDocument", f"arn:aws:ssm:{REGION}:{MEMBER}:document/orgguard-sg-revoke"),
        ("config:DescribeConfigurationRecorders", "*"),
        (
            "ssm:StartAutomationExecution",
            f"arn:aws:ssm:{REGION}:{MEMBER}:automation-definition/orgguard-sg-revoke:$DEFAULT",
        ),
        ("iam:PassRole", f"arn:aws:iam::{MEMBER}:role/orgguard-sg-revoke"),
    ],
)
def test_ordinary_work_and_the_verifier_are_not_denied(org_manifest: Manifest, action: str, resource: str) -> None:
    sar_resource_templates(action)
    request = as_principal(Request(action, resource), ORDINARY[0])
    assert scp_decision(policies(org_manifest.scp), request) is Decision.ALLOW


def test_protect_all_config_rules_also_denies_rule_changes_on_any_rule(tmp_path: Path) -> None:
    out = tmp_path / "out"
    synthesize(variant(tmp_path, "g.yaml", lambda d: d["scp"].update(protect_all_config_rules=True)), out)
    scps = policies(load_manifest(out / MANIFEST_FILE).scp)
    rule = f"arn:aws:config:{REGION}:{MEMBER}:config-rule/config-rule-abc123"
    for action in ("config:DeleteConfigRule", "config:PutConfigRule", "config:DeleteEvaluationResults"):
        assert sar_resource_templates(action)
        assert scp_decision(scps, as_principal(Request(action, rule), ORDINARY[0])) is Decision.EXPLICIT_DENY
        assert scp_decision(scps, as_principal(Request(action, rule), EXEMPT[0])) is Decision.ALLOW


def test_the_scp_is_sent_minified_within_the_quota_and_terraform_carries_exactly_it(org_out, org_manifest) -> None:
    tf = stack_json(org_out, "orgguard-org-management")
    contents = {p["name"]: p["content"] for p in tf["resource"]["aws_organizations_policy"].values()}
    assert list(contents) == [p.name for p in org_manifest.scp.policies] == ["orgguard-protect-guardrails"]
    for part in org_manifest.scp.policies:
        # Terraform reads "${" as interpolation: the JSON carries the policy variable escaped as "$${", which
        # terraform sends as "${aws:PrincipalAccount}" (checked with terraform 1.11: an output of "$${x}" is "${x}").
        sent = contents[part.name].replace("$${", "${")
        assert "${aws:PrincipalAccount}" in sent and "$${" not in sent
        assert sent == minified(part.policy)
        assert len(sent) <= SCP_MAX_CHARACTERS
        assert json.loads(sent) == part.policy
    # The construct ids the single policy always had: existing state updates in place.
    assert "scp" in tf["resource"]["aws_organizations_policy"]


def many(n: int) -> list[str]:
    return [f"arn:aws:iam::*:role/pipeline-{i:03d}-deployer-role-with-a-long-name-*" for i in range(n)]


def test_many_exempt_roles_split_the_scp_into_policies_that_each_fit_and_together_deny_the_same(tmp_path: Path):
    out = tmp_path / "out"
    exempt = ["arn:aws:iam::*:role/stacksets-exec-*", *many(16)]
    synthesize(variant(tmp_path, "g.yaml", lambda d: d["scp"].update(exempt_principal_arns=exempt)), out)
    manifest = load_manifest(out / MANIFEST_FILE)
    parts = manifest.scp.policies
    assert 1 < len(parts) <= MAX_POLICIES
    assert [p.name for p in parts] == ["orgguard-protect-guardrails"] + [
        f"orgguard-protect-guardrails-{i}" for i in range(2, len(parts) + 1)
    ]
    assert all(len(minified(p.policy)) <= SCP_MAX_CHARACTERS for p in parts)
    scps = policies(manifest.scp)
    for _, request in off_switch_requests(manifest):
        assert scp_decision(scps, as_principal(request, ORDINARY[0])) is Decision.EXPLICIT_DENY
        for pipeline in exempt_instances(manifest):
            assert scp_decision(scps, as_principal(request, pipeline)) is Decision.ALLOW
    tf = stack_json(out, "orgguard-org-management")["resource"]
    assert sorted(tf["aws_organizations_policy"]) == ["scp"] + [f"scp-{i}" for i in range(2, len(parts) + 1)]
    assert len(tf["aws_organizations_policy_attachment"]) == len(parts) * len(manifest.scp.targets)
    from parliament import analyze_policy_string

    assert all(not analyze_policy_string(json.dumps(p.policy)).findings for p in parts)


def test_an_scp_too_large_for_four_policies_is_one_line_exit_2_and_the_previous_output_stays(tmp_path: Path):
    out = tmp_path / "out"
    ok = variant(tmp_path, "ok.yaml", lambda d: None)
    assert run_cli("synth", "--config", str(ok), "--out", str(out)).returncode == 0
    before = (out / MANIFEST_FILE).read_bytes()
    huge = ["arn:aws:iam::*:role/stacksets-exec-*", *many(40)]
    bad = variant(tmp_path, "bad.yaml", lambda d: d["scp"].update(exempt_principal_arns=huge))
    result = run_cli("synth", "--config", str(bad), "--out", str(out))
    assert result.returncode == 2, result.stderr
    lines = problem_lines(result.stderr)
    assert len(lines) == 1 and "scp.exempt_principal_arns" in lines[0] and "5,120" in lines[0], lines
    assert len(lines[0]) < 400
    assert "Traceback" not in result.stderr
    assert (out / MANIFEST_FILE).read_bytes() == before


@pytest.mark.parametrize(
    ("exempt", "expected"),
    [
        (["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:user/ci"], "scp.exempt_principal_arns[1]: "),
        (["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/*"], "at least 6 literal characters"),
        (["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/a*"], "at least 6 literal characters"),
        # review item 14: every existing Admin* role of every member account would be exempt
        (["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/Adm*"], "at least 6 literal characters"),
        (["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws-cn:iam::*:role/Pipeline"], "not an IAM role ARN"),
        (["arn:aws:iam::*:role/stacksets-exec-*", FULLWIDTH_ACCOUNT], "not an IAM role"),
        (["arn:aws:iam::*:role/AWSControlTowerExecution"], "must keep arn:aws:iam::*:role/stacksets-exec-*"),
        (["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/stacksets-exec-*"], "listed twice"),
        ([], "scp.exempt_principal_arns"),
    ],
)
def test_bad_exempt_patterns_are_refused_one_line_each(tmp_path: Path, exempt: list[str], expected: str) -> None:
    bad = variant(tmp_path, "bad.yaml", lambda d: d["scp"].update(exempt_principal_arns=exempt))
    result = run_cli("synth", "--config", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = problem_lines(result.stderr)
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr, lines
    assert not (tmp_path / "out").exists()


def test_account_mode_refuses_an_scp_it_would_silently_not_create(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d.update(mode="account", accounts=["210000000001"])
        d["organization"]["target_ous"] = []
        d["control_tower"]["enable_detective_controls"] = False
        d["exemptions"]["known"] = []  # exemptions must name vended accounts; not what this test is about

    result = run_cli("synth", "--config", str(variant(tmp_path, "a.yaml", edit)), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "scp.protect_governance_resources: only organization mode" in result.stderr


def test_a_manifest_written_before_the_split_still_reads_as_one_policy(org_manifest: Manifest) -> None:
    old = json.loads(org_manifest.to_json())
    old["scp"] = {"name": "orgguard-protect-guardrails", "policy": OLD_SCP, "targets": ["ou-ab12-cdefgh34"]}
    manifest = Manifest.model_validate(old)
    assert [p.name for p in manifest.scp.policies] == ["orgguard-protect-guardrails"]
    assert manifest.scp.policy == {"Version": "2012-10-17", "Statement": OLD_SCP["Statement"]}


# -- review items 1, 5 and 6 ---------------------------------------------------------------------------

EXECUTION_ARN = f"arn:aws:ssm:{REGION}:{MEMBER}:automation-execution/4c1d2e3f-aaaa-bbbb-cccc-0123456789ab"
AFT_MANAGEMENT = "210000000099"
# The AFT management account's CodeBuild / Step Functions roles (aws-ia/terraform-aws-control_tower_account_factory)
# and AWSAFTAdmin there assume AWSAFTExecution in each vended account.
AFT_CALLERS = [
    f"arn:aws:iam::{AFT_MANAGEMENT}:role/AWSAFTAdmin",
    f"arn:aws:iam::{AFT_MANAGEMENT}:role/aft-codebuild-customizations-role",
]
# The statement this change replaced: sts:AssumeRole and iam:PassRole on exempt roles, from anywhere.
OLD_NO_USE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoUseOfExemptRoles",
            "Effect": "Deny",
            "Action": ["iam:PassRole", "sts:AssumeRole"],
            "Resource": ["arn:aws:iam::*:role/AWSAFTExecution", "arn:aws:iam::*:role/AWSAFTAdmin"],
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/AWSAFTAdmin"]}},
        }
    ],
}


def test_stopping_remediation_runs_is_denied_and_was_allowed_before(org_manifest: Manifest) -> None:
    """A stopped run fails; after maximum_automatic_attempts failures Config excepts the group itself."""
    request = Request("ssm:StopAutomationExecution", EXECUTION_ARN)
    assert sar_resource_templates(request.action)
    for principal in ORDINARY:
        assert scp_decision([OLD_SCP], as_principal(request, principal)) is Decision.ALLOW
        assert scp_decision(policies(org_manifest.scp), as_principal(request, principal)) is Decision.EXPLICIT_DENY
    for principal in EXEMPT:
        assert scp_decision(policies(org_manifest.scp), as_principal(request, principal)) is Decision.ALLOW


def test_allow_stopping_automation_is_a_central_switch(tmp_path: Path) -> None:
    out = tmp_path / "out"
    synthesize(variant(tmp_path, "g.yaml", lambda d: d["scp"].update(allow_stopping_automation=True)), out)
    scps = policies(load_manifest(out / MANIFEST_FILE).scp)
    request = as_principal(Request("ssm:StopAutomationExecution", EXECUTION_ARN), ORDINARY[0])
    assert scp_decision(scps, request) is Decision.ALLOW
    # the rest still holds
    assert scp_decision(scps, as_principal(Request("config:PutRemediationExceptions"), ORDINARY[0])) is (
        Decision.EXPLICIT_DENY
    )


def test_aft_management_account_assumes_aft_execution_across_accounts(org_manifest: Manifest) -> None:
    """Before: assuming an exempt role was denied to every non-exempt caller wherever it sat, so a pipeline role
    in another account (the AFT management account) was locked out (review item 6). The deny now applies only
    from the role's own account."""
    scps = policies(org_manifest.scp)
    target = Request("sts:AssumeRole", f"arn:aws:iam::{MEMBER}:role/AWSAFTExecution")
    for caller in AFT_CALLERS:
        assert scp_decision(scps, as_principal(target, caller)) is Decision.ALLOW
    assert scp_decision([OLD_NO_USE], as_principal(target, AFT_CALLERS[1])) is Decision.EXPLICIT_DENY
    # A member admin still cannot become an exempt role of its own account, nor pass one.
    for principal in ORDINARY[:2]:
        assert scp_decision(scps, as_principal(target, principal)) is Decision.EXPLICIT_DENY
        passing = Request("iam:PassRole", f"arn:aws:iam::{MEMBER}:role/AWSAFTExecution")
        assert scp_decision(scps, as_principal(passing, principal)) is Decision.EXPLICIT_DENY
    # Known limit (docs/operators.md): inside the AFT management account, aft-* roles assuming AWSAFTAdmin is
    # same-account, so still denied if that account is under a target OU; keep it outside, or exempt its aft-*
    # roles by account id.
    admin = Request("sts:AssumeRole", f"arn:aws:iam::{AFT_MANAGEMENT}:role/AWSAFTAdmin")
    assert scp_decision(scps, as_principal(admin, AFT_CALLERS[1])) is Decision.EXPLICIT_DENY


def test_assume_role_deny_fails_closed_without_resource_account(org_manifest: Manifest) -> None:
    """Were aws:ResourceAccount absent from a request, the deny still applies (IfExists), never lapses."""
    request = Request(
        "sts:AssumeRole",
        f"arn:aws:iam::{MEMBER}:role/AWSAFTExecution",
        {"aws:PrincipalArn": ORDINARY[0], "aws:PrincipalAccount": MEMBER},
    )
    assert scp_decision(policies(org_manifest.scp), request) is Decision.EXPLICIT_DENY


def test_landing_zone_accelerator_is_not_exempt_by_default(org_manifest: Manifest) -> None:
    """Before: AWSAccelerator-* and cdk-accel-* were exempt in every organization (review item 5)."""
    scps = policies(org_manifest.scp)
    for role in LZA:
        assert scp_decision(scps, as_principal(Request("config:PutRemediationExceptions"), role)) is (
            Decision.EXPLICIT_DENY
        )
    patterns = org_manifest.scp.policy["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert not [p for p in patterns if "Accelerator" in p or "cdk-accel" in p]


def test_landing_zone_accelerator_opt_in_exempts_it_and_locks_its_compute(tmp_path: Path) -> None:
    out = tmp_path / "out"
    synthesize(variant(tmp_path, "g.yaml", lambda d: d["scp"].update(exempt_landing_zone_accelerator=True)), out)
    manifest = load_manifest(out / MANIFEST_FILE)
    scps = policies(manifest.scp)
    assert all(len(minified(p.policy)) <= SCP_MAX_CHARACTERS for p in manifest.scp.policies)
    requests = off_switch_requests(manifest) + off_switch_requests(manifest, LZA_SWITCHES)
    for _, request in requests:
        for principal in ORDINARY[:-2]:
            assert scp_decision(scps, as_principal(request, principal)) is Decision.EXPLICIT_DENY, (request, principal)
        for principal in [*EXEMPT, *LZA]:
            assert scp_decision(scps, as_principal(request, principal)) is Decision.ALLOW, (request, principal)
    # Workloads' own functions and stacks stay theirs.
    own = [
        Request("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{MEMBER}:function:app-api"),
        Request("cloudformation:UpdateStack", f"arn:aws:cloudformation:{REGION}:{MEMBER}:stack/app/1a2b"),
    ]
    for request in own:
        assert scp_decision(scps, as_principal(request, ORDINARY[0])) is Decision.ALLOW
