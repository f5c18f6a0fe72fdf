"""The ECS hardening rules in the sandbox: deployed by the synthesized pack, evaluated like AWS Config (latest
ACTIVE revision only), and verified account by account.

Before orgguard/sandbox/config_evaluation.py the sandbox answered StartConfigRulesEvaluation with moto's
"not yet implemented" and recorded no result, so the NON_COMPLIANT and COMPLIANT rows asserted here did not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox
from orgguard.synth.build import synthesize
from orgguard.verify import verify
from tests.sandbox.shapes import ShapeRecorder
from tests.verify.org_deploy import client, deploy_org, member_accounts, restore_env, use_sandbox_env

ECS = ("ecs-containers-nonprivileged", "ecs-no-environment-secrets", "ecs-task-network-mode-not-host")
# Only the three ECS controls: no runbooks, so the plan is a pack per region and nothing else.
GOVERNANCE = """\
version: 1
mode: organization
organization: {}
controls:
  restricted-ssh: {enabled: false}
  restricted-common-ports: {enabled: false}
  ecs-service-public-ip: {enabled: false}
  ecs-readonly-root-filesystem: {enabled: false}
  ecs-taskset-public-ip: {enabled: false}
  ecs-containers-nonprivileged: {enabled: true}
  ecs-no-environment-secrets: {enabled: true, secret_keys: [AWS_SECRET_ACCESS_KEY, DB_PASSWORD]}
  ecs-task-network-mode-not-host: {enabled: true}
scp: {protect_governance_resources: false}
"""


@dataclass
class Deployed:
    sb: Sandbox
    manifest: Manifest
    out: Path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    work = tmp_path_factory.mktemp("ecs-sandbox")
    with Sandbox(work / "sandbox") as sb:
        previous = use_sandbox_env(sb)
        try:
            base = work / "base.yaml"
            base.write_text(GOVERNANCE)
            config = work / "governance.yaml"
            config.write_text(sb.governance_yaml(base))
            manifest = synthesize(config, work / "out")
            deploy_org(sb, manifest, work / "out")
            yield Deployed(sb, manifest, work / "out")
        finally:
            restore_env(previous)


def _real_rule(d: Deployed, account: str, region: str, control_id: str) -> str:
    rule = next(c.rule.name for c in d.manifest.controls if c.id == control_id)
    names = [
        r["ConfigRuleName"] for r in client(d.sb, account, "config", region).describe_config_rules()["ConfigRules"]
    ]
    return next(n for n in names if n.startswith(f"{rule}-conformance-pack-"))


def _results(cfg: Any, rule: str) -> dict[str, str]:
    cfg.start_config_rules_evaluation(ConfigRuleNames=[rule])
    rows = cfg.get_compliance_details_by_config_rule(ConfigRuleName=rule)["EvaluationResults"]
    return {
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r["ComplianceType"] for r in rows
    }


CONTAINER = {"name": "app", "image": "public.ecr.aws/nginx/nginx:latest", "memory": 128}


def test_a_privileged_revision_is_non_compliant_and_the_next_one_without_privileged_is_compliant(
    deployed: Deployed,
) -> None:
    d = deployed
    account, region = member_accounts(d.sb)[0], d.sb.org.regions[0]
    ecs = client(d.sb, account, "ecs", region)
    cfg = client(d.sb, account, "config", region)
    recorder = ShapeRecorder(cfg)
    rule = _real_rule(d, account, region, "ecs-containers-nonprivileged")
    first = ecs.register_task_definition(family="web", containerDefinitions=[{**CONTAINER, "privileged": True}])
    arn1 = first["taskDefinition"]["taskDefinitionArn"]
    assert _results(cfg, rule) == {arn1: "NON_COMPLIANT"}
    second = ecs.register_task_definition(family="web", containerDefinitions=[{**CONTAINER, "privileged": False}])
    arn2 = second["taskDefinition"]["taskDefinitionArn"]
    # only the latest ACTIVE revision is evaluated: revision 1, still ACTIVE, has no result any more
    assert _results(cfg, rule) == {arn2: "COMPLIANT"}
    # deregistering the latest brings the previous ACTIVE revision back into scope (as AWS words the rule)
    ecs.deregister_task_definition(taskDefinition=arn2)
    assert _results(cfg, rule) == {arn1: "NON_COMPLIANT"}
    assert recorder.errors == [] and {"StartConfigRulesEvaluation", "GetComplianceDetailsByConfigRule"} <= set(
        recorder.checked
    )
    # another account's task definitions are not this account's findings
    other = member_accounts(d.sb)[1]
    assert (
        _results(client(d.sb, other, "config", region), _real_rule(d, other, region, "ecs-containers-nonprivileged"))
        == {}
    )


def test_secrets_and_host_mode_are_found_by_their_rules(deployed: Deployed) -> None:
    d = deployed
    account, region = member_accounts(d.sb)[0], d.sb.org.regions[-1]
    ecs = client(d.sb, account, "ecs", region)
    cfg = client(d.sb, account, "config", region)
    leaky = ecs.register_task_definition(
        family="leaky",
        networkMode="host",
        containerDefinitions=[{**CONTAINER, "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    clean = ecs.register_task_definition(
        family="clean",
        networkMode="awsvpc",
        containerDefinitions=[
            {
                **CONTAINER,
                "environment": [{"name": "STAGE", "value": "prod"}],
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:111111111111:parameter/db"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    secrets = _real_rule(d, account, region, "ecs-no-environment-secrets")
    host = _real_rule(d, account, region, "ecs-task-network-mode-not-host")
    assert _results(cfg, secrets) == {leaky: "NON_COMPLIANT", clean: "COMPLIANT"}
    assert _results(cfg, host) == {leaky: "NON_COMPLIANT", clean: "COMPLIANT"}


def test_start_config_rules_evaluation_refuses_what_aws_refuses(deployed: Deployed) -> None:
    d = deployed
    cfg = client(d.sb, member_accounts(d.sb)[0], "config", d.sb.org.regions[0])
    with pytest.raises(ClientError) as err:
        cfg.start_config_rules_evaluation(ConfigRuleNames=["no-such-rule"])
    assert err.value.response["Error"]["Code"] == "NoSuchConfigRuleException"


def test_the_verifier_checks_the_ecs_rules_everywhere_and_fails_a_deleted_one(deployed: Deployed) -> None:
    d = deployed
    report = verify(d.manifest, session=d.sb.session(), workers=8, progress=False, manifest_dir=d.out)
    rows = [r for r in report.results if r.control in ECS]
    accounts, regions = member_accounts(d.sb), d.sb.org.regions
    assert {(r.check, r.control, r.account_id, r.region) for r in rows} == {
        (check, cid, a, reg)
        for check in ("config-rule", "remediation")
        for cid in ECS
        for a in accounts
        for reg in regions
    }
    assert {r.status for r in rows} == {"PASS"}, [(r.key, r.reason) for r in rows if r.status != "PASS"]
