"""Is automatic remediation still closing what its rule finds? Two reads per remediating rule and target.

A member account cannot call `PutRemediationExceptions` (the SCP denies it), but it does not need to: once
auto-remediation of a resource failed `MaximumAutomaticAttempts` times within `RetryAttemptSeconds`, "Config
will put a RemediationException on your behalf for the failing resource" (botocore `config` model,
`RemediationConfiguration.MaximumAutomaticAttempts`), and "Remediation exceptions blocks auto-remediation
until the exception is cleared" (`DescribeRemediationExceptions`). A member that makes the runbook fail (a
stopped run, a rule re-created under a new id) so turns remediation off for its group, while the rule, the
binding, the document and the role all stay exactly as the plan says.

And an approved exemption that lapsed is not remediated at its expiry: the runbook's run on the group
succeeded (EXEMPT), and nothing starts it again until Config evaluates the group and starts remediation
(both rules are "Configuration changes and Periodic", AWS Config developer guide, restricted-ssh and
restricted-common-ports; whether a periodic evaluation of a group still NON_COMPLIANT starts remediation
again is not documented).

- `remediation-exceptions` FAILs on any exception for the rule (the runbook honours approved exemptions
  itself, so the plan never needs one), naming each resource.
- `noncompliant-resources` FAILs on any NON_COMPLIANT resource of the rule that no valid approved
  exemption covers (none, or it expired): remediation did not close it. A resource that just became
  non-compliant fails too until the runbook closed it and Config re-evaluated it (seconds to minutes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from orgguard.manifest import ControlEntry, Exemption
from orgguard.verify.context import Target
from orgguard.verify.member import real_rule_name
from orgguard.verify.result import CheckResult, failed, passed

EXCEPTIONS_CHECK = "remediation-exceptions"
OPEN_CHECK = "noncompliant-resources"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
SHOWN = 5  # resources named in a reason; the result's `actual` holds them all
PAGE = 100  # botocore: Limit 0-100 for both reads


def remediating(control: ControlEntry) -> bool:
    """Only automatic remediation can be switched off by Config's own exception or fail to close a finding."""
    return control.enabled and control.remediation.mode == "automatic"


def _missing(check: str, t: Target, control: ControlEntry) -> CheckResult:
    """The rule is not deployed here (config-rule FAILs too): nothing remediates here, which is a FAIL as well."""
    reason = f"rule of {control.id} not deployed here, so nothing remediates what it would find"
    return failed(check, control.id, t.account_id, t.region, control.rule.name, None, reason)


def _named(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def remediation_exceptions(t: Target, rule: str) -> list[dict[str, Any]]:
    """Every remediation exception of the rule here (DescribeRemediationExceptions has no paginator)."""
    cfg = t.client("config")
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = cfg.describe_remediation_exceptions(
            ConfigRuleName=rule, Limit=PAGE, **({"NextToken": token} if token else {})
        )
        found += page.get("RemediationExceptions", [])
        token = page.get("NextToken")
        if not token:
            return found


def check_exceptions(t: Target, control: ControlEntry) -> CheckResult:
    args = (EXCEPTIONS_CHECK, control.id, t.account_id, t.region)
    rule = real_rule_name(t, control)
    if rule is None:
        return _missing(EXCEPTIONS_CHECK, t, control)
    found = remediation_exceptions(t, rule)
    if not found:
        return passed(*args, {"rule": rule, "exceptions": 0})
    resources = [f"{e.get('ResourceType', '?')} {e.get('ResourceId', '?')}" for e in found]
    actual = [
        {k: str(e[k]) for k in ("ResourceType", "ResourceId", "Message", "ExpirationTime") if k in e} for e in found
    ]
    return failed(
        *args, [], actual,
        f"Config no longer auto-remediates {_named(resources)} for rule {rule} (a remediation exception, which "
        "Config writes itself after the runbook failed MaximumAutomaticAttempts times): find why the runbook "
        "fails there, fix it, then DeleteRemediationExceptions",
    )  # fmt: skip


def _exemption(exemptions: list[Exemption], account: str, resource_id: str) -> Exemption | None:
    return next((e for e in exemptions if e.account_id == account and e.security_group_id == resource_id), None)


def check_open(t: Target, control: ControlEntry, today: Callable[[], dt.date] | None = None) -> CheckResult:
    """NON_COMPLIANT resources of a remediating rule: each must be a group with a valid approved exemption."""
    args = (OPEN_CHECK, control.id, t.account_id, t.region)
    rule = real_rule_name(t, control)
    if rule is None:
        return _missing(OPEN_CHECK, t, control)
    paginator = t.client("config").get_paginator("get_compliance_details_by_config_rule")
    results = [
        r
        for page in paginator.paginate(
            ConfigRuleName=rule, ComplianceTypes=["NON_COMPLIANT"], PaginationConfig={"PageSize": PAGE}
        )
        for r in page.get("EvaluationResults", [])
    ]
    date = (today or (lambda: dt.datetime.now(dt.UTC).date()))().isoformat()  # expires is inclusive, UTC
    kept, open_ = [], []
    for result in results:
        qualifier = result.get("EvaluationResultIdentifier", {}).get("EvaluationResultQualifier", {})
        kind, resource = str(qualifier.get("ResourceType", "")), str(qualifier.get("ResourceId", ""))
        exemption = _exemption(t.manifest.exemptions, t.account_id, resource) if kind == SECURITY_GROUP else None
        if exemption is not None and exemption.expires >= date:
            kept.append({"resource": resource, "exempt_until": exemption.expires, "owner": exemption.owner})
        elif exemption is not None:
            open_.append({"resource": resource, "why": f"its exemption expired on {exemption.expires}"})
        else:
            open_.append({"resource": resource or "?", "why": "no approved exemption"})
    if not open_:
        return passed(*args, {"rule": rule, "non_compliant": len(results), "exempt": kept})
    named = [f"{o['resource']} ({o['why']})" for o in open_]
    return failed(
        *args, {"non_compliant": "only groups with a valid approved exemption"}, {"open": open_, "exempt": kept},
        f"{_named(named)} NON_COMPLIANT with rule {rule}: remediation did not close it. Config starts "
        "remediation again only when it next evaluates the group, not at an exemption's expiry: run the runbook "
        "on it (StartRemediationExecution) or renew its exemption in the governance file",
    )  # fmt: skip


def member_checks(
    t: Target, control: ControlEntry
) -> list[tuple[tuple[str, str | None, str, str], Callable[[], CheckResult]]]:
    """The two checks of one remediating control in one account and region (none for other controls)."""
    if not remediating(control):
        return []
    key = (t.account_id, t.region)
    return [
        ((EXCEPTIONS_CHECK, control.id, *key), lambda: check_exceptions(t, control)),
        ((OPEN_CHECK, control.id, *key), lambda: check_open(t, control)),
    ]


__all__ = ["EXCEPTIONS_CHECK", "OPEN_CHECK", "check_exceptions", "check_open", "member_checks", "remediating"]
