"""On-demand evaluation of the managed ECS task-definition rules, which moto 5.2.5 never evaluates.

``StartConfigRulesEvaluation`` (moto lacks it) is shaped like botocore's ``config`` model: 1-25
``ConfigRuleNames``, each must exist (``NoSuchConfigRuleException``), empty response. For a rule whose source is
one of the managed identifiers below, the sandbox evaluates moto's ECS task definitions in that account and
region as AWS Config's pages describe the rule, and records the results where ``GetComplianceDetailsByConfigRule``
reads them (orgguard/sandbox/remediation.py). Any other rule is accepted and left unevaluated, as before.

Each rule "only evaluates the latest active revision of an Amazon ECS task definition" (the rules' pages), so per
family only the highest ACTIVE revision gets a result; an older revision's earlier result is dropped, and a family
with no ACTIVE revision left has none. Resource id: the task definition's ARN (its CloudFormation primary
identifier, TaskDefinitionArn); which id AWS Config itself reports for AWS::ECS::TaskDefinition is UNCONFIRMED.
Sources, rule by rule, are in docs/sandbox.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.ecs.models import ecs_backends

from orgguard.sandbox import remediation

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

TASK_DEFINITION = "AWS::ECS::TaskDefinition"
Verdict = tuple[str, str]  # (ComplianceType, Annotation)
Evaluator = Callable[[Any, dict[str, Any]], Verdict]


def _containers(task_definition: Any) -> list[dict[str, Any]]:
    return list(getattr(task_definition, "container_definitions", None) or [])


def nonprivileged(task_definition: Any, params: dict[str, Any]) -> Verdict:
    """ecs-containers-nonprivileged: "NON_COMPLIANT if the privileged parameter is 'true'"."""
    names = [str(c.get("name")) for c in _containers(task_definition) if c.get("privileged") is True]
    if names:
        return "NON_COMPLIANT", f"privileged container(s): {', '.join(names)}"
    return "COMPLIANT", "no container is privileged"


def no_environment_secrets(task_definition: Any, params: dict[str, Any]) -> Verdict:
    """ecs-no-environment-secrets: NON_COMPLIANT "if 1 or more environment variable key matches a key listed in
    the 'secretKeys' parameter (excluding environmental variables from other locations such as Amazon S3)";
    "Extra spaces will be removed" from the CSV."""
    keys = {k.strip() for k in str(params.get("secretKeys") or "").split(",") if k.strip()}
    found = sorted(
        {
            str(env.get("name"))
            for c in _containers(task_definition)
            for env in c.get("environment") or []
            if str(env.get("name")) in keys
        }
    )
    if found:
        return "NON_COMPLIANT", f"secret key(s) in environment: {', '.join(found)}"
    return "COMPLIANT", "no listed secret key in any container's environment"


def network_mode_not_host(task_definition: Any, params: dict[str, Any]) -> Verdict:
    """ecs-task-definition-network-mode-not-host: "Checks if the latest active revision of Amazon ECS task
    definitions use host network mode"."""
    if getattr(task_definition, "network_mode", None) == "host":
        return "NON_COMPLIANT", "networkMode is host"
    return "COMPLIANT", f"networkMode is {getattr(task_definition, 'network_mode', None) or 'bridge'}"


EVALUATORS: dict[str, Evaluator] = {
    "ECS_CONTAINERS_NONPRIVILEGED": nonprivileged,
    "ECS_NO_ENVIRONMENT_SECRETS": no_environment_secrets,
    "ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST": network_mode_not_host,
}


def _result(rule: str, resource_id: str, verdict: Verdict, now: float) -> dict[str, Any]:
    """An EvaluationResult as botocore's model shapes it (the shape remediation.put_evaluation records)."""
    compliance, annotation = verdict
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": rule,
                "ResourceType": TASK_DEFINITION,
                "ResourceId": resource_id,
                "EvaluationMode": "DETECTIVE",
            },
            "OrderingTimestamp": now,
        },
        "ComplianceType": compliance,
        "Annotation": annotation[:256],
        "ResultRecordedTime": now,
        "ConfigRuleInvokedTime": now,
    }


def evaluate(account_id: str, region: str, rule_name: str) -> bool:
    """Evaluate one rule on every family's latest ACTIVE revision; False if the sandbox cannot evaluate it."""
    rule = config_backends[account_id][region].config_rules[rule_name]
    source = rule.source
    evaluator = EVALUATORS.get(str(source.source_identifier)) if source.owner == "AWS" else None
    if evaluator is None:
        return False
    params = dict(getattr(rule, "input_parameters_dict", None) or {})
    now = time.time()
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for revisions in ecs_backends[account_id][region].task_definitions.values():
        active = [td for td in revisions.values() if td.status == "ACTIVE"]
        if active:
            latest = max(active, key=lambda td: td.revision)
            results[(TASK_DEFINITION, latest.arn)] = _result(rule_name, latest.arn, evaluator(latest, params), now)
    with remediation._LOCK:
        stored = remediation.EVALUATIONS.setdefault((account_id, region), {}).setdefault(rule_name, {})
        for key in [k for k in stored if k[0] == TASK_DEFINITION]:  # older revisions leave scope
            del stored[key]
        stored.update(results)
    return True


class _Api:
    """Grafted onto moto's ConfigResponse (its dispatcher calls methods by action name)."""

    def start_config_rules_evaluation(self: Any) -> str:
        account, region = self.current_account, self.region
        names = self._get_param("ConfigRuleNames") or []
        if not isinstance(names, list) or not 1 <= len(names) <= 25:
            raise remediation.ConfigError("InvalidParameterValueException", "Give 1-25 ConfigRuleNames.")
        rules = config_backends[account][region].config_rules
        for name in names:
            if name not in rules:
                raise remediation.ConfigError(
                    "NoSuchConfigRuleException", f"The ConfigRule '{name}' provided in the request is invalid."
                )
        for name in names:
            evaluate(account, region, name)
        return json.dumps({})


def install(ctx: ServerContext) -> None:
    ConfigResponse.start_config_rules_evaluation = _Api.start_config_rules_evaluation  # type: ignore[attr-defined]
