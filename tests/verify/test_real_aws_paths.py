"""The verifier's real-AWS paths, driven by botocore's Stubber (the sandbox serves the same calls too).

Stubber validates every queued response against botocore's service model, so each answer below has the
shape AWS's API returns. The verifier has no emulator fallback any more: the sandbox answers
DescribeConformancePackCompliance itself (tests/verify/test_sandbox_pack_compliance.py), so the pack's rules
are always read from the pack; a throttle, a 500 or an endpoint that lacks the operation makes the check
UNVERIFIED and never switches to a weaker read (before, a "not implemented" answer switched the whole run
to listing the rules Config's conformance-pack service created).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from orgguard.manifest import Manifest
from orgguard.verify import member
from orgguard.verify.aws import CallCounter, SessionPool
from orgguard.verify.context import OrgFacts, Target
from orgguard.verify.runner import _run_check

from .factory import MGMT, RULE_PORTS, RULE_SSH, manifest_dict

ACCOUNT = "210000000001"
REGION = "us-east-1"
ORG_PACK = "orgguard-pack"
MEMBER_PACK = "OrgConformsPack-orgguard-pack-a1b2c3d4"
SUFFIX = "-conformance-pack-x1y2z3w4"
STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/awsconfigconforms-{MEMBER_PACK}-conformance-pack-abc/1f2e"
ROLE_ARN = "arn:aws:iam::{account}:role/orgguard-sg-revoke"
TEMPLATE = """\
Resources:
  RestrictedSshRule:
    Type: AWS::Config::ConfigRule
    Properties:
      ConfigRuleName: "orgguard-restricted-ssh"
      Scope:
        ComplianceResourceTypes: ["AWS::EC2::SecurityGroup"]
      Source:
        Owner: AWS
        SourceIdentifier: INCOMING_SSH_DISABLED
  RestrictedSshRemediation:
    Type: AWS::Config::RemediationConfiguration
    DependsOn: RestrictedSshRule
    Properties:
      ConfigRuleName: "orgguard-restricted-ssh"
      TargetType: SSM_DOCUMENT
      TargetId: "orgguard-RevokePublicSgIngress"
      Parameters:
        AutomationAssumeRole:
          StaticValue:
            Values: ["arn:aws:iam::111111111111:role/orgguard-sg-revoke"]
"""


def _org_manifest(tmp_path: Path) -> Manifest:
    data = manifest_dict(mode="organization")
    data["conformance_packs"] = [{
        "name": ORG_PACK, "region": REGION, "template_file": "templates/pack.yaml",
        "template_sha256": hashlib.sha256(TEMPLATE.encode()).hexdigest(),
        "rules": [RULE_SSH, RULE_PORTS], "excluded_accounts": [],
    }]  # fmt: skip
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates/pack.yaml").write_text(TEMPLATE)
    return Manifest.model_validate(data)


def _target(tmp_path: Path, *, endpoint: str | None = None) -> Target:
    base = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    pool = SessionPool(base, role_name="r", external_id=None, counter=CallCounter(), workers=1)
    pool._caller = ACCOUNT  # these credentials are the member's own: no AssumeRole, no STS call
    if endpoint:  # the verifier's own client settings, pointed at a local server, two attempts in total
        config = pool.config.merge(Config(retries={"mode": "adaptive", "total_max_attempts": 2}))
        for service in ("config", "cloudformation"):
            client = base.client(service, region_name=REGION, endpoint_url=endpoint, config=config)
            pool._clients[(ACCOUNT, service, REGION, 0)] = client
    status = {ACCOUNT: {"AccountId": ACCOUNT, "ConformancePackName": MEMBER_PACK, "Status": "CREATE_SUCCESSFUL"}}
    facts = OrgFacts(pack_status={(ORG_PACK, REGION): status})
    return Target(_org_manifest(tmp_path), pool, ACCOUNT, REGION, facts, tmp_path)


@pytest.fixture
def stubbed(tmp_path: Path) -> Iterator[tuple[Target, Stubber, Stubber]]:
    t = _target(tmp_path)
    config, cfn = Stubber(t.client("config")), Stubber(t.client("cloudformation"))
    with config, cfn:
        yield t, config, cfn
        config.assert_no_pending_responses()
        cfn.assert_no_pending_responses()


def _rule(name: str, identifier: str, params: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ConfigRuleName": name,
        "ConfigRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-{abs(hash(name)) % 10**6}",
        "Source": {"Owner": "AWS", "SourceIdentifier": identifier},
        "Scope": {"ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]},
        "ConfigRuleState": "ACTIVE",
        "CreatedBy": "config-conforms.amazonaws.com",
        **extra,
    }
    if params:
        rule["InputParameters"] = json.dumps(params)
    return rule


LIVE_RULES = [
    _rule(RULE_SSH + SUFFIX, "INCOMING_SSH_DISABLED"),
    _rule(RULE_PORTS + SUFFIX, "RESTRICTED_INCOMING_TRAFFIC",
          {"blockedPort1": "20", "blockedPort2": "21", "blockedPort3": "3389"}),
]  # fmt: skip


def _check_rule(t: Target, control_id: str = "restricted-ssh") -> Any:
    control = next(c for c in t.manifest.controls if c.id == control_id)
    key = ("config-rule", control.id, t.account_id, t.region)
    return _run_check(t.pool.counter, key, lambda: member.check_rule(t, control))


def test_pack_rules_come_from_describe_conformance_pack_compliance_across_pages(stubbed) -> None:
    t, config, _ = stubbed
    first = {"ConformancePackName": MEMBER_PACK, "NextToken": "page-2", "ConformancePackRuleComplianceList": [
        {"ConfigRuleName": RULE_SSH + SUFFIX, "ComplianceType": "COMPLIANT"}]}  # fmt: skip
    second = {"ConformancePackName": MEMBER_PACK, "ConformancePackRuleComplianceList": [
        {"ConfigRuleName": RULE_PORTS + SUFFIX, "ComplianceType": "NON_COMPLIANT", "Controls": []}]}  # fmt: skip
    config.add_response("describe_conformance_pack_compliance", first, {"ConformancePackName": MEMBER_PACK})
    config.add_response(
        "describe_conformance_pack_compliance", second, {"ConformancePackName": MEMBER_PACK, "NextToken": "page-2"}
    )
    config.add_response(
        "describe_config_rules", {"ConfigRules": LIVE_RULES},
        {"ConfigRuleNames": sorted([RULE_SSH + SUFFIX, RULE_PORTS + SUFFIX])},
    )  # fmt: skip
    ssh, ports = _check_rule(t), _check_rule(t, "restricted-common-ports")
    assert (ssh.status, ports.status) == ("PASS", "PASS"), (ssh.reason, ports.reason)
    assert ssh.actual == {"name": RULE_SSH + SUFFIX}


def test_missing_member_pack_means_its_rules_are_missing(stubbed) -> None:
    t, config, _ = stubbed
    config.add_client_error(
        "describe_conformance_pack_compliance", "NoSuchConformancePackException", "no pack", http_status_code=400
    )
    result = _check_rule(t)
    assert result.status == "FAIL" and "not found among the conformance pack's rules" in result.reason


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("ThrottlingException", 400, "throttled past retries"),
        ("InternalFailure", 500, "error (DescribeConformancePackCompliance: InternalFailure"),
        ("ServiceUnavailable", 503, "error (DescribeConformancePackCompliance: ServiceUnavailable"),
        ("AccessDeniedException", 400, "access denied"),
    ],
)
def test_throttling_or_a_server_error_never_takes_the_fallback(stubbed, code: str, status: int, reason: str) -> None:
    t, config, _ = stubbed
    config.add_client_error("describe_conformance_pack_compliance", code, "try later", http_status_code=status)
    result = _check_rule(t)  # no DescribeConfigRules is queued: a fallback call would fail the Stubber
    assert result.status == "UNVERIFIED" and reason in result.reason


@pytest.mark.parametrize(
    ("code", "status"), [("NotImplemented", 501), ("UnknownOperationException", 400), ("InvalidAction", 400)]
)
def test_not_implemented_answer_is_unverified_never_a_weaker_read(stubbed, code: str, status: int) -> None:
    # Before: the verifier fell back to DescribeConfigRules (rules CreatedBy config-conforms) for these answers.
    t, config, _ = stubbed
    config.add_client_error("describe_conformance_pack_compliance", code, "no such operation", http_status_code=status)
    result = _check_rule(t)  # no DescribeConfigRules is queued: a fallback call would fail the Stubber
    assert result.status == "UNVERIFIED" and result.reason.startswith("API not found"), result.reason
    assert not hasattr(t.pool, "unsupported")


class _Failing(BaseHTTPRequestHandler):
    """A Config endpoint that always answers DescribeConformancePackCompliance with a JSON 500."""

    seen: list[str] = []

    def do_POST(self) -> None:  # http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        type(self).seen.append(target.rsplit(".", 1)[-1])
        body = json.dumps({"__type": "InternalFailure", "message": "transient"}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_real_http_500_is_retried_then_unverified_and_the_fallback_is_not_asked(tmp_path: Path) -> None:
    _Failing.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        t = _target(tmp_path, endpoint=f"http://127.0.0.1:{server.server_port}")
        result = _check_rule(t)
    finally:
        server.shutdown()
        server.server_close()
    assert result.status == "UNVERIFIED" and "InternalFailure" in result.reason
    assert _Failing.seen == ["DescribeConformancePackCompliance"] * 2  # botocore retried the 500 once


def _pack_status(stack: str | None = STACK) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "ConformancePackName": MEMBER_PACK,
        "ConformancePackId": "conformance-pack-abc",
        "ConformancePackArn": f"arn:aws:config:{REGION}:{ACCOUNT}:conformance-pack/{MEMBER_PACK}/conformance-pack-abc",
        "ConformancePackState": "CREATE_COMPLETE",
        "LastUpdateRequestedTime": dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    }
    if stack:
        detail["StackArn"] = stack
    return {"ConformancePackStatusDetails": [detail]}


def _check_template(t: Target, config: Stubber, cfn: Stubber, body: str | None, stack: str | None = STACK) -> Any:
    pack = t.manifest.conformance_packs[0]
    config.add_response("describe_conformance_pack_status", _pack_status(stack),
                        {"ConformancePackNames": [MEMBER_PACK]})  # fmt: skip
    if body is not None:
        cfn.add_response("get_template", {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]},
                         {"StackName": STACK, "TemplateStage": "Original"})  # fmt: skip
    key = (f"pack-template:{pack.name}", None, t.account_id, t.region)
    return _run_check(t.pool.counter, key, lambda: member.check_pack_template(t, pack))


def test_pack_template_with_the_manifests_bytes_passes(stubbed) -> None:
    t, config, cfn = stubbed
    result = _check_template(t, config, cfn, TEMPLATE)
    assert result.status == "PASS" and result.actual["same_content_only"] is False


def test_pack_template_with_only_configs_documented_rewrites_passes_as_same_content(stubbed) -> None:
    t, config, cfn = stubbed
    rewritten = (TEMPLATE.replace('"orgguard-restricted-ssh"', f'"orgguard-restricted-ssh{SUFFIX}"')
                 .replace(MGMT, ACCOUNT).replace("RestrictedSsh", "Rule0"))  # fmt: skip
    result = _check_template(t, config, cfn, rewritten)
    assert result.status == "PASS" and result.actual["same_content_only"] is True


def test_pack_template_as_json_body_is_compared_as_data(stubbed) -> None:
    import yaml

    t, config, cfn = stubbed
    body = json.dumps(yaml.safe_load(TEMPLATE.replace(MGMT, ACCOUNT)))  # botocore decodes JSON bodies itself
    assert _check_template(t, config, cfn, body).status == "PASS"


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: s.replace("INCOMING_SSH_DISABLED", "RESTRICTED_INCOMING_TRAFFIC"), "differs"),
        (lambda s: s.replace("role/orgguard-sg-revoke", "role/attacker"), "RemediationConfiguration"),
        (
            lambda s: s + "  Extra:\n    Type: AWS::Config::ConfigRule\n    Properties: {ConfigRuleName: x}\n",
            "unexpected AWS::Config::ConfigRule:x",
        ),
        (lambda s: s.split("  RestrictedSshRemediation:")[0], "missing AWS::Config::RemediationConfiguration"),
        (lambda s: "a: &a [1]\nb: *a\n", "holds no readable pack template"),
    ],
)
def test_pack_template_that_differs_fails_naming_the_resource(stubbed, edit, needle: str) -> None:
    t, config, cfn = stubbed
    result = _check_template(t, config, cfn, edit(TEMPLATE))
    assert result.status == "FAIL" and needle in result.reason, result.reason


def test_pack_without_a_stack_arn_is_unverified_not_pass(stubbed) -> None:
    t, config, cfn = stubbed
    result = _check_template(t, config, cfn, None, stack=None)
    assert result.status == "UNVERIFIED" and "no StackArn" in result.reason


def test_pack_template_permissions_are_granted_only_when_asked(tmp_path: Path) -> None:
    from orgguard.verify import iam

    manifest = _org_manifest(tmp_path)
    plain = {a for s in iam.member_read_policy(manifest, ACCOUNT)["Statement"] for a in s["Action"]}
    policy = iam.member_read_policy(manifest, ACCOUNT, pack_templates=True)
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions - plain == {"config:DescribeConformancePackStatus", "cloudformation:GetTemplate"}
    (stack_statement,) = [s for s in policy["Statement"] if s["Action"] == ["cloudformation:GetTemplate"]]
    assert stack_statement["Resource"] == [f"arn:aws:cloudformation:*:{ACCOUNT}:stack/awsconfigconforms-*/*"]
