"""Pure comparisons of what the manifest wants with what AWS returned (no API calls, unit-tested alone).

Each function builds an ``expected`` and an ``actual`` view with the same keys, so a FAIL shows both
side by side and names exactly the fields that differ.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from orgguard.manifest import RemediationParameter, RemediationSpec, RuleSpec, for_account

SUCCESS_PACK_STATES = {"CREATE_SUCCESSFUL", "UPDATE_SUCCESSFUL"}


def differing(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    return [key for key in expected if expected[key] != actual.get(key)]


def pack_rule_name_matches(synthesized: str, real: str) -> bool:
    """Config names a pack's rule ``<name>-conformance-pack-<suffix>`` in member accounts."""
    return (
        real == synthesized
        or re.fullmatch(rf"{re.escape(synthesized)}-conformance-pack-[A-Za-z0-9]+", real) is not None
    )


def _params(raw: str | dict[str, Any] | None) -> dict[str, str]:
    if not raw:
        return {}
    value = json.loads(raw) if isinstance(raw, str) else raw
    return {str(k): str(v) for k, v in value.items()}


def rule_views(spec: RuleSpec, live: dict[str, Any], policy_text: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Expected and actual views of a Config rule (``live`` is one DescribeConfigRules item)."""
    source = live.get("Source", {})
    expected: dict[str, Any] = {
        "owner": spec.source_owner,
        "source_identifier": spec.source_identifier,
        "input_parameters": dict(spec.input_parameters),
        "resource_types": sorted(spec.resource_types),
        "state": "ACTIVE",
    }
    actual: dict[str, Any] = {
        "owner": source.get("Owner"),
        "source_identifier": source.get("SourceIdentifier"),
        "input_parameters": _params(live.get("InputParameters")),
        "resource_types": sorted(live.get("Scope", {}).get("ComplianceResourceTypes", [])),
        "state": live.get("ConfigRuleState"),  # absent is not ACTIVE: nothing unread passes
    }
    if spec.maximum_execution_frequency:  # periodic rules only: a slower schedule finds exposure later
        expected["maximum_execution_frequency"] = spec.maximum_execution_frequency
        actual["maximum_execution_frequency"] = live.get("MaximumExecutionFrequency")
    if spec.source_owner == "CUSTOM_POLICY":
        expected["source_identifier"] = actual["source_identifier"] = None
        expected["policy_runtime"] = spec.policy_runtime
        actual["policy_runtime"] = source.get("CustomPolicyDetails", {}).get("PolicyRuntime")
        expected["policy_text"] = (spec.policy_text or "").strip()
        actual["policy_text"] = (policy_text or "").strip()
    return expected, actual


def _param_view(param: RemediationParameter, account_id: str, management_id: str | None) -> dict[str, Any]:
    if param.resource_value:
        return {"ResourceValue": param.resource_value}
    values = for_account(list(param.static_values or []), account_id)
    if management_id:
        # An organization pack names the management account in the role ARN; Config deploys it with
        # each member's own id (AWS Config guide, conformance pack prerequisites).
        values = [v.replace(f"arn:aws:iam::{management_id}:", f"arn:aws:iam::{account_id}:") for v in values]
    return {"StaticValues": values}


def _live_param_view(param: dict[str, Any]) -> dict[str, Any]:
    if "ResourceValue" in param:
        return {"ResourceValue": param["ResourceValue"].get("Value")}
    return {"StaticValues": list(param.get("StaticValue", {}).get("Values", []))}


def remediation_views(
    spec: RemediationSpec, live: dict[str, Any] | None, account_id: str, management_id: str | None = None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Expected and actual views of a remediation binding; None means "no binding"."""
    actual = None
    if live is not None:
        ssm = live.get("ExecutionControls", {}).get("SsmControls", {})
        actual = {
            "target_type": live.get("TargetType"),
            "document": live.get("TargetId"),
            "version": live.get("TargetVersion") or "$DEFAULT",
            "automatic": bool(live.get("Automatic", False)),
            "parameters": {k: _live_param_view(v) for k, v in (live.get("Parameters") or {}).items()},
            "maximum_automatic_attempts": live.get("MaximumAutomaticAttempts"),
            "retry_attempt_seconds": live.get("RetryAttemptSeconds"),
            "concurrent_execution_rate_percentage": ssm.get("ConcurrentExecutionRatePercentage"),
            "error_percentage": ssm.get("ErrorPercentage"),
        }
    if spec.mode == "off":
        return None, actual
    expected: dict[str, Any] = {
        "target_type": "SSM_DOCUMENT",
        "document": spec.document,
        "version": spec.target_version or "$DEFAULT",
        "automatic": spec.mode == "automatic",
        "parameters": {k: _param_view(v, account_id, management_id) for k, v in spec.parameters.items()},
    }
    for key in (
        "maximum_automatic_attempts",
        "retry_attempt_seconds",
        "concurrent_execution_rate_percentage",
        "error_percentage",
    ):
        value = getattr(spec, key)
        if value is not None:
            expected[key] = value
    if actual is not None:
        actual = {k: actual[k] for k in expected}
    return expected, actual


def recorder_views(
    required_types: list[str], recorders: list[dict[str, Any]], statuses: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Is some recorder both on and recording every type the controls need?"""
    recording = {s.get("name"): bool(s.get("recording")) for s in statuses}
    best: dict[str, Any] = {"recorder": None, "recording": False, "missing_types": sorted(required_types)}
    for rec in recorders:
        group = rec.get("recordingGroup") or {"allSupported": True}
        strategy = (group.get("recordingStrategy") or {}).get("useOnly")
        if strategy == "EXCLUSION_BY_RESOURCE_TYPES":
            excluded = set((group.get("exclusionByResourceTypes") or {}).get("resourceTypes", []))
            missing = sorted(t for t in required_types if t in excluded)
        elif group.get("allSupported", False):
            missing = []
        else:
            covered = set(group.get("resourceTypes", []))
            missing = sorted(t for t in required_types if t not in covered)
        view = {
            "recorder": rec.get("name"),
            "recording": recording.get(rec.get("name"), False),
            "missing_types": missing,
        }
        if (view["recording"], -len(missing)) > (best["recording"], -len(best["missing_types"])) or best[
            "recorder"
        ] is None:
            best = view
    expected = {"recorder": best["recorder"] or "(any)", "recording": True, "missing_types": []}
    return expected, best


MAX_TEMPLATE_BYTES = 1024 * 1024  # CloudFormation's own limit for a template body read from S3


class _CfnLoader(yaml.SafeLoader):
    """Safe YAML that keeps CloudFormation short-form tags (``!Ref x``) as ``{"!Ref": x}`` instead of failing,
    and refuses aliases, so a template cannot expand into gigabytes when compared."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not allowed in a compared template")
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"!{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tagged)


def _template(body: str | dict[str, Any]) -> dict[str, Any] | None:
    """A template body as data: botocore already decodes JSON bodies of GetTemplate; YAML ones stay text."""
    if isinstance(body, dict):
        return body
    if len(body.encode()) > MAX_TEMPLATE_BYTES:
        return None
    try:
        data = yaml.load(body, Loader=_CfnLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def pack_resources(
    body: str | dict[str, Any], rule_names: list[str], management_id: str | None, account_id: str
) -> dict[str, Any] | None:
    """A pack template's resources keyed by type and synthesized rule name, as one account would run them.

    Logical ids and ``DependsOn`` are ignored; a rule name ``<rule>-conformance-pack-<suffix>`` (Config's
    rename) counts as ``<rule>``; the management account in a role ARN counts as ``account_id`` (Config
    deploys an organization pack's role ARN with each member's id). None when the body is not a template.
    """
    data = _template(body)
    if data is None or not isinstance(data.get("Resources"), dict):
        return None
    out: dict[str, Any] = {}
    for logical_id, resource in data["Resources"].items():
        if not isinstance(resource, dict):
            out[f"?{logical_id}"] = resource
            continue
        props = json.loads(json.dumps(resource.get("Properties") or {}, default=str))
        name = props.get("ConfigRuleName")
        if isinstance(name, str):
            props["ConfigRuleName"] = next((r for r in rule_names if pack_rule_name_matches(r, name)), name)
        if management_id:
            text = json.dumps(props).replace(f"arn:aws:iam::{management_id}:", f"arn:aws:iam::{account_id}:")
            props = json.loads(text)
        key = f"{resource.get('Type')}:{props.get('ConfigRuleName', logical_id)}"
        out[key if key not in out else f"{key}#{logical_id}"] = props
    return out
