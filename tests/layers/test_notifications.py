"""The notifications layer as synthesized: off means absent, the patterns catch what they should (checked with
the repository's reference EventBridge matcher), the Terraform validates against the real provider, the
member rules get a StackSet of their own (the documents one stays as without them), every policy is least
privilege and lints clean, the SCP protects the member rules and role, and bad input is refused one line per problem."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from parliament import analyze_policy_string

from orgguard.demo import _overlay
from orgguard.iam.evaluate import Decision, Request, scp_decision
from orgguard.layers.notifications.patterns import for_account as pattern_for_account
from orgguard.manifest import Manifest, ManifestError, for_account, load_manifest
from orgguard.synth.build import MANIFEST_FILE, synthesize
from orgguard.synth.limits import TEMPLATE_BODY_MAX
from tests.runbooks.eventbridge import matches
from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE, ROOT, run_cli
from tests.synth.test_scp_offswitches import (
    EXEMPT,
    ORDINARY,
    as_principal,
    off_switch_requests,
    sar_resource_templates,
)

CENTRAL = "444444444444"
MEMBER = "210000000001"
SECTION = {"account_id": CENTRAL, "email": ["secops@example.com"], "https": ["https://hooks.example.com/orgguard"]}
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


def _write(tmp: Path, base: Path, name: str, notifications: dict | None, **top) -> Path:
    data = yaml.safe_load(base.read_text())
    if notifications is not None:
        data["notifications"] = notifications
    data.update(top)
    path = tmp / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def org_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("notify-org")
    out = tmp / "out"
    synthesize(_write(tmp, EXAMPLE, "g.yaml", SECTION), out)
    return out


@pytest.fixture(scope="module")
def org(org_out: Path) -> Manifest:
    return load_manifest(org_out / MANIFEST_FILE)


@pytest.fixture(scope="module")
def account_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("notify-acct")
    out = tmp / "out"
    synthesize(_write(tmp, ACCOUNT_EXAMPLE, "a.yaml", {"account_id": CENTRAL, "email": ["secops@example.com"]}), out)
    return out


# -- off by default ------------------------------------------------------------------------------------------


def test_a_file_without_the_section_plans_no_notification_anything(tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = synthesize(EXAMPLE, out)
    text = (out / MANIFEST_FILE).read_text()
    assert manifest.notifications is None and '"notifications"' not in text
    assert [s.kind for s in manifest.stacks if s.kind == "notifications"] == []
    assert next(s for s in manifest.stacks if s.kind == "org-global").depends_on == []
    for path in [*(out / "stacks").rglob("cdk.tf.json"), *(out / "templates").iterdir()]:
        assert "notify" not in path.read_text() and "findings" not in path.read_text(), path


# -- patterns ------------------------------------------------------------------------------------------------


def _config_event(rule: str, compliance: str = "NON_COMPLIANT") -> dict:
    """A Config Rules Compliance Change as EventBridge delivers it (EventBridge reference, AWS Config events;
    the pack rule's name and service-linked ARN as in public sample events)."""
    return {
        "version": "0",
        "id": "f0eae78e-0ccc-4079-a509-206fca99c4fc",
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": MEMBER,
        "time": "2026-11-23T11:05:05Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "resourceId": "sg-0123456789abcdef0",
            "awsRegion": "eu-west-1",
            "awsAccountId": MEMBER,
            "configRuleName": rule,
            "recordVersion": "1.0",
            "configRuleARN": f"arn:aws:config:eu-west-1:{MEMBER}:config-rule/aws-service-rule/"
            "config-conforms.amazonaws.com/config-rule-axgui2",
            "messageType": "ComplianceChangeNotification",
            "newEvaluationResult": {"complianceType": compliance},
            "resourceType": "AWS::EC2::SecurityGroup",
        },
    }


def _automation_event(document: str, status: str) -> dict:
    """EC2 Automation Execution Status-change Notification (Systems Manager user guide, event examples)."""
    return {
        "version": "0",
        "id": "2f3c0b2c-1234-4abc-9def-0123456789ab",
        "detail-type": "EC2 Automation Execution Status-change Notification",
        "source": "aws.ssm",
        "account": MEMBER,
        "time": "2026-11-23T11:05:05Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:ssm:eu-west-1:{MEMBER}:automation-execution/4c1d2e3f-aaaa"],
        "detail": {
            "ExecutionId": "4c1d2e3f-aaaa",
            "Definition": document,
            "DefinitionVersion": 1.0,
            "Status": status,
            "StartTime": "Nov 23, 2026 11:04:00 AM",
            "EndTime": "Nov 23, 2026 11:05:00 AM",
            "Time": 60000.0,
            "ExecutedBy": f"arn:aws:sts::{MEMBER}:assumed-role/AWSServiceRoleForConfigRemediation/x",
        },
    }


def _rule(m: Manifest, purpose: str) -> dict:
    """The member rule's pattern as it stands in MEMBER's eu-west-1 (the StackSet's Fn::Sub filled in)."""
    pattern = next(r.event_pattern for r in m.notifications.member_rules if r.purpose == purpose)
    return pattern_for_account(pattern, MEMBER, "eu-west-1")


def test_a_pack_rule_turning_non_compliant_matches_member_and_central_patterns(org: Manifest) -> None:
    finding = _rule(org, "finding")
    for rule in ("orgguard-restricted-ssh-conformance-pack-qayjyopmd", "orgguard-restricted-ssh"):
        event = _config_event(rule)
        assert matches(finding, event) and matches(org.notifications.central_event_pattern, event), rule


@pytest.mark.parametrize(
    ("rule", "compliance"),
    [
        ("orgguard-restricted-ssh-conformance-pack-qayjyopmd", "COMPLIANT"),
        ("orgguard-restricted-ssh-conformance-pack-qayjyopmd", "NOT_APPLICABLE"),
        ("restricted-ssh-conformance-pack-qayjyopmd", "NON_COMPLIANT"),  # another team's pack
        ("securityhub-restricted-ssh-0a1b2c", "NON_COMPLIANT"),
        ("AWSControlTower_AWS-GR_RESTRICTED_SSH", "NON_COMPLIANT"),
    ],
)
def test_other_rules_and_other_results_are_not_notified(org: Manifest, rule: str, compliance: str) -> None:
    event = _config_event(rule, compliance)
    assert not matches(_rule(org, "finding"), event)
    assert not matches(org.notifications.central_event_pattern, event)


def test_a_member_s_own_custom_rule_with_an_orgguard_like_name_is_not_forwarded(org: Manifest) -> None:
    """Before: the name prefix alone matched, so a member admin's custom rule orgguard-restricted-ssh-PHISH (ARN
    config-rule/config-rule-<id>, not service-linked) reporting NON_COMPLIANT was forwarded to every subscriber."""
    phish = _config_event("orgguard-restricted-ssh-PHISH")
    phish["detail"]["configRuleARN"] = f"arn:aws:config:eu-west-1:{MEMBER}:config-rule/config-rule-phish1"
    assert not matches(_rule(org, "finding"), phish)
    elsewhere = _config_event("orgguard-restricted-ssh-conformance-pack-qayjyopmd")  # a pack rule of another account
    elsewhere["detail"]["configRuleARN"] = elsewhere["detail"]["configRuleARN"].replace(MEMBER, "210000000002")
    assert not matches(_rule(org, "finding"), elsewhere)
    # The central rule is a gate too: an account the SCP does not bind could forward the phish itself.
    assert not matches(org.notifications.central_event_pattern, phish)


def test_the_sandbox_matcher_agrees_on_the_rule_arn_prefix(org: Manifest) -> None:
    """The sandbox routes events with moto's matcher: it must treat the ARN prefix as the reference matcher does."""
    from moto.events.models import EventPattern

    real = _config_event("orgguard-restricted-ssh-conformance-pack-qayjyopmd")
    phish = _config_event("orgguard-restricted-ssh-PHISH")
    phish["detail"]["configRuleARN"] = f"arn:aws:config:eu-west-1:{MEMBER}:config-rule/config-rule-phish1"
    moto_pattern = EventPattern.load(json.dumps(_rule(org, "finding")))
    assert [moto_pattern.matches_event(e) for e in (real, phish)] == [True, False]
    assert [matches(_rule(org, "finding"), e) for e in (real, phish)] == [True, False]


def test_the_stackset_fills_the_rule_arn_prefix_per_account_with_fn_sub(org_out: Path, org: Manifest) -> None:
    body = yaml.safe_load((org_out / "templates" / "orgguard-notifications.yaml").read_text())
    (finding,) = [r["Properties"] for r in body["Resources"].values()
                  if r["Type"] == "AWS::Events::Rule" and r["Properties"]["Name"] == "orgguard-notify-findings"]
    assert finding["EventPattern"]["detail"]["configRuleARN"] == [{"prefix": {"Fn::Sub": (
        "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/aws-service-rule/"
        "config-conforms.amazonaws.com/")}}]
    # The central rule serves every account: it needs the service-linked form of any account, a wildcard.
    central = json.dumps(org.notifications.central_event_pattern)
    assert "config-conforms.amazonaws.com/*" in central and "Fn::Sub" not in central


def test_the_management_account_s_own_rules_carry_its_account_and_region(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["organization"]["include_management_account"] = True
    data["notifications"] = SECTION
    config = tmp_path / "m.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    synthesize(config, tmp_path / "out")
    tf = json.loads((tmp_path / "out/stacks/orgguard-org-management/cdk.tf.json").read_text())
    rules = tf["resource"]["aws_cloudwatch_event_rule"]
    finding = json.loads(rules["notify-rule-finding-eu-west-1"]["event_pattern"])
    assert finding["detail"]["configRuleARN"] == [{"prefix": "arn:aws:config:eu-west-1:111111111111:config-rule/"
                                                              "aws-service-rule/config-conforms.amazonaws.com/"}]


def test_account_mode_forwards_the_account_stack_s_rules_by_exact_name(account_out: Path) -> None:
    """An account stack's rule is named exactly as planned, so a look-alike name is not forwarded."""
    acct = load_manifest(account_out / MANIFEST_FILE)
    finding = _rule(acct, "finding")
    assert "configRuleARN" not in finding["detail"]
    plain = _config_event("orgguard-restricted-ssh")
    plain["detail"]["configRuleARN"] = f"arn:aws:config:eu-west-1:{MEMBER}:config-rule/config-rule-abc123"
    assert matches(finding, plain)
    plain["detail"]["configRuleName"] = "orgguard-restricted-ssh-PHISH"
    assert not matches(finding, plain)


@pytest.mark.parametrize("status", ["Failed", "TimedOut", "Cancelled"])
def test_a_failed_run_of_an_orgguard_runbook_is_notified(org: Manifest, status: str) -> None:
    event = _automation_event(org.documents[0].name, status)
    assert matches(_rule(org, "remediation-failure"), event)
    assert matches(org.notifications.central_event_pattern, event)


@pytest.mark.parametrize(
    ("document", "status"),
    [("orgguard-RevokePublicSgIngress", "Success"), ("orgguard-RevokePublicSgIngress", "InProgress"),
     ("AWS-DisablePublicAccessForSecurityGroup", "Failed")],
)
def test_successful_runs_and_other_documents_are_not_notified(org: Manifest, document: str, status: str) -> None:
    assert not matches(org.notifications.central_event_pattern, _automation_event(document, status))


# -- stacks --------------------------------------------------------------------------------------------------


def _validate(stack_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    init = subprocess.run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], cwd=stack_dir,
                          env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    return subprocess.run(["terraform", "validate", "-no-color"], cwd=stack_dir, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_the_central_stack_and_an_account_stack_pass_terraform_validate(org_out: Path, account_out: Path) -> None:
    for stack in (org_out / "stacks/orgguard-notifications", account_out / "stacks/orgguard-account-333333333333"):
        result = _validate(stack)
        assert result.returncode == 0, f"{stack.name}: {result.stderr}"


def test_the_central_stack_assumes_the_role_into_the_bus_account_and_wires_bus_rule_topic(org_out: Path,
                                                                                        org: Manifest) -> None:
    tf = json.loads((org_out / "stacks" / "orgguard-notifications" / "cdk.tf.json").read_text())
    (provider,) = tf["provider"]["aws"]
    assert provider["allowed_account_ids"] == [CENTRAL]
    assert provider["assume_role"][0]["role_arn"] == f"arn:aws:iam::{CENTRAL}:role/OrganizationAccountAccessRole"
    res = tf["resource"]
    assert res["aws_cloudwatch_event_bus"]["bus"]["name"] == "orgguard-findings"
    assert json.loads(res["aws_cloudwatch_event_bus_policy"]["bus-policy"]["policy"]) == org.notifications.bus_policy
    assert res["aws_cloudwatch_event_target"]["central-target"].get("role_arn") is None
    subs = sorted((s["protocol"], s["endpoint"]) for s in res["aws_sns_topic_subscription"].values())
    assert subs == [("email", "secops@example.com"), ("https", "https://hooks.example.com/orgguard")]


def test_the_central_stack_applies_first_and_every_other_stack_waits_for_it(org: Manifest, account_out: Path) -> None:
    first, *rest = org.stacks
    assert first.kind == "notifications" and first.depends_on == [] and first.account_id == CENTRAL
    assert all(first.name in s.depends_on for s in rest)
    acct = load_manifest(account_out / MANIFEST_FILE)
    assert all(s.depends_on == ["orgguard-notifications"] for s in acct.stacks if s.kind == "account")


def test_member_rules_travel_in_their_own_stackset_which_lints_clean(org_out: Path, org: Manifest) -> None:
    path = org_out / "templates" / "orgguard-notifications.yaml"
    body = path.read_text()
    size = len(body.encode())
    print(f"notifications StackSet: {size} bytes, headroom {TEMPLATE_BODY_MAX - size}")
    assert size <= TEMPLATE_BODY_MAX
    resources = yaml.safe_load(body)["Resources"]
    assert {r["Type"] for r in resources.values()} == {"AWS::Events::Rule"}
    rules = {r["Properties"]["Name"]: r["Properties"] for r in resources.values()}
    assert sorted(rules) == sorted(r.name for r in org.notifications.member_rules)
    for planned in org.notifications.member_rules:
        props = rules[planned.name]
        assert props["EventPattern"] == planned.cloudformation_pattern() and props["State"] == "ENABLED"
        (target,) = props["Targets"]
        assert target["Arn"] == org.notifications.bus_arn
        assert target["RoleArn"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/orgguard-notify"}
        assert not {"Input", "InputPath", "InputTransformer"} & set(target)  # not allowed cross-account
    lint = subprocess.run([CFN_LINT, "--ignore-checks", "E3051", "--", str(path)], capture_output=True, text=True,
                          timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    roles = yaml.safe_load((org_out / "templates" / "orgguard-roles.yaml").read_text())["Resources"]
    assert "OrgguardNotify" in roles


def test_the_documents_template_is_what_it_is_without_notifications(org_out: Path, tmp_path: Path) -> None:
    """The member rules took ~2 KB of the documents template, whose 51,200 bytes the approved exemptions share."""
    off = tmp_path / "off"
    synthesize(EXAMPLE, off)
    name = "templates/orgguard-documents.yaml"
    assert (org_out / name).read_bytes() == (off / name).read_bytes()
    assert not (off / "templates" / "orgguard-notifications.yaml").exists()


def test_the_notifications_stackset_is_recorded_like_the_documents_one(org_out: Path, org: Manifest) -> None:
    sets = {s.purpose: s for s in org.stack_sets}
    mine, docs = sets["notifications"], sets["documents"]
    assert mine.name == "orgguard-notifications" and mine.template_file == "templates/orgguard-notifications.yaml"
    assert mine.template_sha256 == hashlib.sha256((org_out / mine.template_file).read_bytes()).hexdigest()
    assert (mine.region, mine.call_as, mine.target_ous, mine.regions) == (
        docs.region, docs.call_as, docs.target_ous, docs.regions)


def test_the_notifications_stackset_deploys_like_the_documents_one_after_the_roles(org_out: Path) -> None:
    """Same auto-deployment, preferences and targets; created after the roles StackSet's instances (its rules
    name the <prefix>-notify role) and the documents ones (which held these rule names before: no collision)."""
    res = json.loads((org_out / "stacks" / "orgguard-org-global" / "cdk.tf.json").read_text())["resource"]
    sets, instances = res["aws_cloudformation_stack_set"], res["aws_cloudformation_stack_set_instance"]
    mine, docs = sets["stackset-notifications"], sets["stackset-documents"]
    differ = {k for k in {*mine, *docs} if mine.get(k) != docs.get(k)}
    assert differ == {"//", "name", "description", "template_body", "depends_on"}, differ  # //: cdktf metadata
    assert sorted(mine["depends_on"]) == sorted(
        f"aws_cloudformation_stack_set_instance.{k}" for k in instances if not k.startswith("stackset-notifications")
    )
    assert "aws_cloudformation_stack_set_instance.stackset-roles-us-east-1" in mine["depends_on"]
    for region in ("us-east-1", "eu-west-1", "ap-northeast-1"):
        a, b = instances[f"stackset-notifications-{region}"], instances[f"stackset-documents-{region}"]
        assert {k: v for k, v in a.items() if k not in ("//", "stack_set_name")} == {
            k: v for k, v in b.items() if k not in ("//", "stack_set_name")}
        assert a["stack_set_name"] == "${aws_cloudformation_stack_set.stackset-notifications.name}"


def test_every_layer_on_leaves_room_for_29_exemptions(tmp_path: Path) -> None:
    """With the demo's opt-in layers and notifications on, the documents template held ~12 exemptions when the
    member rules rode in it; now 29 (measured; 30 overflows)."""
    text, _ = _overlay(EXAMPLE.read_text(), CENTRAL)
    data = yaml.safe_load(text)
    known = data["exemptions"]["known"][0]
    data["exemptions"]["known"] = [{**known, "security_group_id": f"sg-{i:017x}"} for i in range(29)]
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    manifest = synthesize(path, tmp_path / "out")
    assert manifest.notifications is not None
    size = len((tmp_path / "out" / "templates" / "orgguard-documents.yaml").read_bytes())
    assert size <= TEMPLATE_BODY_MAX


def test_account_mode_places_the_member_rules_in_the_regional_module(account_out: Path) -> None:
    regional = json.loads((account_out / "modules" / "orgguard-account-regional" / "main.tf.json").read_text())
    targets = regional["resource"]["aws_cloudwatch_event_target"]
    notify = {k: v for k, v in targets.items() if k.startswith("notify-target-")}
    assert len(notify) == 2
    assert {v["arn"] for v in notify.values()} == {f"arn:aws:events:us-east-1:{CENTRAL}:event-bus/orgguard-findings"}


# -- policies ------------------------------------------------------------------------------------------------


def _findings(policy: dict) -> list[str]:
    return [f"{f.issue}: {f.detail}" for f in analyze_policy_string(json.dumps(for_account(policy, MEMBER))).findings]


def test_the_member_role_may_only_put_events_on_the_central_bus_for_its_own_rules(org: Manifest) -> None:
    role = org.role("orgguard-notify")
    (policy,) = role.permission_policies.values()
    assert _findings(policy) == []
    (st,) = policy["Statement"]
    assert st["Action"] == ["events:PutEvents"] and st["Resource"] == [org.notifications.bus_arn]
    (trust,) = role.trust_policy["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "${AWS::AccountId}"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":rule/orgguard-notify-*")


def test_the_bus_admits_only_the_organization_and_the_topic_only_the_central_rule(org: Manifest) -> None:
    n = org.notifications
    (bus,) = n.bus_policy["Statement"]
    assert bus["Principal"] == "*" and bus["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    assert bus["Action"] == ["events:PutEvents"] and bus["Resource"] == [n.bus_arn]
    (topic,) = n.topic_policy["Statement"]
    assert topic["Principal"] == {"Service": "events.amazonaws.com"} and topic["Action"] == ["sns:Publish"]
    assert topic["Condition"] == {"ArnEquals": {"aws:SourceArn": n.central_rule_arn}}
    assert n.central_rule_arn.endswith(":rule/orgguard-findings/orgguard-findings-to-topic")


def test_the_scp_denies_ordinary_principals_changing_the_member_rules_and_role(org: Manifest) -> None:
    scps = [p.policy for p in org.scp.policies]
    ours = [(why, r) for why, r in off_switch_requests(org)
            if "orgguard-notify" in r.resource]
    assert {r.resource.rsplit("/", 1)[-1] for _, r in ours} >= {"orgguard-notify", "orgguard-notify-findings",
                                                                 "orgguard-notify-remediation-failures"}
    assert {r.action for _, r in ours} >= {"events:DeleteRule", "events:DisableRule", "events:PutRule",
                                           "events:PutTargets", "events:RemoveTargets", "iam:DeleteRole",
                                           "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"}
    open_ = [f"{r.action} {r.resource} by {p}" for _, r in ours for p in ORDINARY
             if scp_decision(scps, as_principal(r, p)) is not Decision.EXPLICIT_DENY]
    locked = [f"{r.action} {r.resource} by {p}" for _, r in ours for p in EXEMPT
              if scp_decision(scps, as_principal(r, p)) is not Decision.ALLOW]
    assert open_ == [] and locked == []
    removing = as_principal(Request("events:RemoveTargets", f"arn:aws:events:eu-west-1:{MEMBER}:rule/"
                                    "orgguard-notify-findings"), ORDINARY[0])
    assert scp_decision(scps, removing) is Decision.EXPLICIT_DENY
    print("SCP characters:", [len(json.dumps(p.policy, separators=(",", ":"), sort_keys=True))
                              for p in org.scp.policies])


def test_only_the_forwarding_role_may_put_events_on_the_central_bus(org: Manifest) -> None:
    """Without this statement (the SCP before notifications) a member admin could put made-up findings there."""
    scps = [p.policy for p in org.scp.policies]
    # PutEvents authorizes on the bus ARN (Service Authorization Reference, as parliament ships it).
    assert any(":event-bus/" in t for t in sar_resource_templates("events:PutEvents"))
    put = Request("events:PutEvents", org.notifications.bus_arn)
    for principal in ORDINARY:
        assert scp_decision(scps, as_principal(put, principal)) is Decision.EXPLICIT_DENY, principal
    forwarder = as_principal(put, f"arn:aws:iam::{MEMBER}:role/orgguard-notify")
    assert scp_decision(scps, forwarder) is Decision.ALLOW
    assert all(scp_decision(scps, as_principal(put, p)) is Decision.ALLOW for p in EXEMPT)
    squatter = as_principal(Request("events:PutRule", f"arn:aws:events:eu-west-1:{MEMBER}:rule/orgguard-notify-mine"),
                            ORDINARY[0])
    assert scp_decision(scps, squatter) is Decision.EXPLICIT_DENY  # no own rule may assume the forwarder


# -- bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"email": ["a@example.com"]}, "notifications.account_id: required"),
        ({"account_id": "4444", "email": []}, "notifications.account_id: '4444' is malformed"),
        ({"account_id": CENTRAL, "email": ["secops.example.com"]}, "notifications.email[0]: 'secops.example.com' is "
         "not an e-mail address"),
        ({"account_id": CENTRAL, "https": ["http://hooks.example.com/x"]}, "notifications.https[0]: "
         "'http://hooks.example.com/x' is not an https:// URL"),
        ({"account_id": CENTRAL, "https": ["https://user:pw@hooks.example.com/x"]}, "carries credentials"),
        ({"account_id": CENTRAL, "email": ["a@example.com", "A@example.com"]}, "notifications.email[1]: "
         "A@example.com is listed twice"),
        ({"account_id": CENTRAL, "region": "sa-east-1", "email": ["a@example.com"]}, "notifications.region: "
         "sa-east-1 is not in organization.regions"),
        ({"account_id": CENTRAL}, "notifications.email: no subscriber in notifications.email or "
         "notifications.https; list at least one subscriber, or remove the section"),
        ({"account_id": CENTRAL, "email": [], "https": []}, "list at least one subscriber, or remove the section"),
        ({"account_id": CENTRAL, "emails": ["a@example.com"]}, "notifications.emails: unknown key 'emails'"),
    ],
)
def test_bad_notification_settings_are_refused_one_line_each(tmp_path: Path, section: dict, expected: str) -> None:
    out = tmp_path / "out"
    assert run_cli("synth", "--config", str(EXAMPLE), "--out", str(out)).returncode == 0
    before = (out / MANIFEST_FILE).read_bytes()
    result = run_cli("synth", "--config", str(_write(tmp_path, EXAMPLE, "bad.yaml", section)), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if "notifications" in line]
    assert len(problems) == 1 and expected in problems[0], result.stderr
    assert (out / MANIFEST_FILE).read_bytes() == before


def test_the_management_account_gets_its_own_member_rules_with_include_management_account(tmp_path: Path) -> None:
    """StackSets never reach the management account, so the management stack places its rules, as it places its
    runbooks (orgguard/stacks/organization.py)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["organization"]["include_management_account"] = True
    data["notifications"] = SECTION
    config = tmp_path / "m.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    synthesize(config, tmp_path / "out")
    tf = json.loads((tmp_path / "out/stacks/orgguard-org-management/cdk.tf.json").read_text())
    targets = [t for k, t in tf["resource"]["aws_cloudwatch_event_target"].items() if k.startswith("notify-target-")]
    assert len(targets) == 2 * 3  # two rules in each of the three regions
    assert {t["role_arn"] for t in targets} == {"arn:aws:iam::111111111111:role/orgguard-notify"}


def test_a_manifest_whose_member_role_is_not_planned_is_refused(org_out: Path, tmp_path: Path) -> None:
    data = json.loads((org_out / MANIFEST_FILE).read_text())
    data["roles"] = [r for r in data["roles"] if r["name"] != "orgguard-notify"]
    path = tmp_path / MANIFEST_FILE
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as refused:
        load_manifest(path, files="skip")
    assert "notifications.member_role 'orgguard-notify' is not among roles" in str(refused.value.problems)
