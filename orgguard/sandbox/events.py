"""EventBridge delivery the notifications layer needs, which moto 5.2.5 lacks or gets wrong.

Three sandbox rules (sources beside each in docs/sandbox.md, "Notifications"):

1. An SNS topic as a rule target publishes the event to the topic (moto raises NotImplementedError for it).
   The message is the event as JSON, as EventBridge sends it (no input transformer here), and only when the
   topic policy lets the `events.amazonaws.com` service publish, for this rule when it names an
   `aws:SourceArn` (a topic that does not admit EventBridge gets nothing: re:Post knowledge center,
   "sns-not-getting-eventbridge-notification").
2. An event bus of another account as a target receives the event only if that bus's policy admits the sender:
   an Allow of `events:PutEvents` naming the sender account, or Principal "*" with `aws:PrincipalOrgID` equal to
   the sandbox organization's id while the sender belongs to it; and, for an organization-wide grant, only if
   the target carries a RoleArn of a role that exists in the sender account (EventBridge API reference,
   PutPermission: "accounts in that organization must specify a RoleArn"). moto delivers with neither. The
   forwarded event keeps its original `account`, `region`, `id` and `time`, as AWS's does (moto replaces them).
3. AWS Config sends `Config Rules Compliance Change` to the account's default bus when a rule's result for a
   resource changes (EventBridge events reference, AWS Config events). moto evaluates nothing, so when the
   control endpoint `config/evaluation` (orgguard/sandbox/remediation.py) records a result whose compliance
   differs from the one before, the sandbox puts that event on the account's default bus, shaped like AWS's.

Every delivery decision is recorded; the control endpoint `events/deliveries` returns them (`{"reset": true}`
empties the record).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from typing import TYPE_CHECKING, Any

from moto.events.models import Rule, events_backends
from moto.iam.models import iam_backends
from moto.sns.models import sns_backends
from moto.utilities.arns import parse_arn

from orgguard.sandbox import remediation

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

_CTX: dict[str, ServerContext] = {}
_LOCK = threading.Lock()
DELIVERIES: list[dict[str, Any]] = []
_ORIGINAL_SEND = Rule.send_to_targets
EVENTS_SERVICE = "events.amazonaws.com"


def _record(**entry: Any) -> None:
    with _LOCK:
        DELIVERIES.append(entry)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _org() -> tuple[str, set[str]]:
    """The sandbox organization's id and its accounts (management included)."""
    ctx = _CTX.get("ctx")
    if ctx is None or ctx.org is None:
        return "", set()
    org = ctx.org
    return org.organization_id, {org.management_account_id, org.delegated_admin_account_id, *org.accounts}


def bus_admits(policy_text: str | None, sender: str) -> str | None:
    """Why the bus policy admits `sender` (a short reason), or None when it does not."""
    if not policy_text:
        return None
    org_id, members = _org()
    for st in _as_list(json.loads(policy_text).get("Statement") or []):
        if st.get("Effect") != "Allow" or not {"events:PutEvents", "events:*"} & set(_as_list(st.get("Action"))):
            continue
        principal = st.get("Principal")
        aws = _as_list(principal.get("AWS")) if isinstance(principal, dict) else [principal]
        if sender in aws or f"arn:aws:iam::{sender}:root" in aws:
            return f"the policy names {sender}"
        if "*" in aws or "arn:aws:iam::*:root" in aws:  # moto renders "*" as the latter
            wanted = (st.get("Condition") or {}).get("StringEquals", {}).get("aws:PrincipalOrgID")
            if wanted and wanted == org_id and sender in members:
                return f"{sender} belongs to {org_id}"
    return None


def topic_admits(policy_text: str | None, rule_arn: str) -> bool:
    """Does the topic policy let EventBridge publish for this rule?"""
    if not policy_text:
        return False
    for st in _as_list(json.loads(policy_text).get("Statement") or []):
        principal = st.get("Principal") or {}
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if st.get("Effect") != "Allow" or EVENTS_SERVICE not in services:
            continue
        if not {"sns:Publish", "sns:*"} & set(_as_list(st.get("Action"))):
            continue
        condition = st.get("Condition") or {}
        source = {**condition.get("ArnEquals", {}), **condition.get("ArnLike", {}), **condition.get("StringEquals", {})}
        if "aws:SourceArn" not in source or rule_arn in _as_list(source["aws:SourceArn"]):
            return True
    return False


def _iso(event: dict[str, Any]) -> dict[str, Any]:
    out = dict(event)
    if isinstance(out.get("time"), int | float):
        out["time"] = dt.datetime.fromtimestamp(float(out["time"]), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out.pop("ingestion-time", None)
    return out


def _publish(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    arn = parse_arn(target["Arn"])
    backend = sns_backends[arn.account][arn.region]
    topic = backend.topics.get(target["Arn"])
    base = {"rule": rule.arn, "target": target["Arn"], "event_id": event.get("id"), "kind": "sns"}
    if topic is None:
        _record(**base, delivered=False, reason="no such topic")
        return
    if not topic_admits(topic.policy, rule.arn):
        _record(**base, delivered=False, reason="the topic policy does not let EventBridge publish for this rule")
        return
    try:
        message_id = topic.publish(json.dumps(_iso(event)))
    except Exception as exc:  # moto posts to https subscribers for real; offline that fails, and AWS would retry
        _record(**base, delivered=False, reason=f"a subscriber could not be reached: {type(exc).__name__}")
        return
    _record(**base, delivered=True, reason="published", message_id=message_id)


def _role_in(account: str, role_arn: str | None) -> bool:
    if not role_arn or f":{account}:role/" not in role_arn:
        return False
    name = role_arn.rsplit("/", 1)[-1]
    return any(r.name == name for r in iam_backends[account]["global"].roles.values())


def _forward(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    arn = parse_arn(target["Arn"])
    base = {"rule": rule.arn, "target": target["Arn"], "event_id": event.get("id"), "kind": "event-bus"}
    receiver = events_backends[arn.account][arn.region]
    bus = receiver.event_buses.get(arn.resource_id)
    if bus is None:
        _record(**base, delivered=False, reason="no such bus")
        return
    if arn.account != rule.account_id:
        why = bus_admits(bus.policy, rule.account_id)
        if why is None:
            _record(**base, delivered=False, reason=f"the bus policy does not admit {rule.account_id}")
            return
        if "belongs to" in why and not _role_in(rule.account_id, target.get("RoleArn")):
            _record(**base, delivered=False, reason="the target has no RoleArn of a role in the sender account")
            return
    _record(**base, delivered=True, reason="delivered")  # before the receiving rules record their own hops
    forwarded = copy.deepcopy(event)  # AWS keeps the original account, region, id and time
    for central in list(bus.rules.values()):
        central.send_to_targets(forwarded)


def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    """moto's Rule.send_to_targets, with SNS targets and bus targets handled as AWS does (module docstring)."""
    if not self.event_pattern.matches_event(original_event):
        return
    rest = []
    for target in self.targets:
        arn = parse_arn(target["Arn"])
        if arn.service == "sns":
            _publish(self, target, original_event)
        elif arn.service == "events" and arn.resource_type == "event-bus":
            _forward(self, target, original_event)
        else:
            rest.append(target)
    if rest:
        clone = copy.copy(self)
        clone.targets = rest
        _ORIGINAL_SEND(clone, original_event, transform_input)


def compliance_change_event(
    account: str, region: str, rule_name: str, rule_arn: str, resource_type: str, resource_id: str,
    new: str, old: str | None,
) -> dict[str, Any]:
    """The PutEvents entry of a `Config Rules Compliance Change` (the EventBridge reference's sample shape:
    detail.configRuleName, configRuleARN, resourceType, resourceId, awsAccountId, awsRegion, messageType,
    newEvaluationResult, oldEvaluationResult absent on a first evaluation)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def result(compliance: str) -> dict[str, Any]:
        return {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": {
                    "configRuleName": rule_name, "resourceType": resource_type, "resourceId": resource_id,
                },
                "orderingTimestamp": now,
            },
            "complianceType": compliance,
            "resultRecordedTime": now,
            "configRuleInvokedTime": now,
        }

    detail: dict[str, Any] = {
        "resourceId": resource_id,
        "awsRegion": region,
        "awsAccountId": account,
        "configRuleName": rule_name,
        "recordVersion": "1.0",
        "configRuleARN": rule_arn,
        "messageType": "ComplianceChangeNotification",
        "newEvaluationResult": result(new),
        "notificationCreationTime": now,
        "resourceType": resource_type,
    }
    if old is not None:
        detail["oldEvaluationResult"] = result(old)
    return {"Source": "aws.config", "DetailType": "Config Rules Compliance Change", "Detail": json.dumps(detail)}


_ORIGINAL_PUT_EVALUATION = remediation.put_evaluation


def put_evaluation(body: bytes) -> dict[str, Any]:
    """remediation.put_evaluation, then the compliance-change event when the result changed (rule 3)."""
    from moto.config.models import config_backends

    req = json.loads(body or b"{}")
    account, region = str(req.get("account_id", "")), str(req.get("region", ""))
    rule_name = str(req.get("config_rule_name", ""))
    key = (str(req.get("resource_type", "AWS::EC2::SecurityGroup")), str(req.get("resource_id", "")))
    with remediation._LOCK:
        before = remediation.EVALUATIONS.get((account, region), {}).get(rule_name, {}).get(key)
    answer = _ORIGINAL_PUT_EVALUATION(body)
    if not answer.get("ok"):
        return answer
    old = before["ComplianceType"] if before else None
    new = str(req.get("compliance_type", "NON_COMPLIANT"))
    if new != old:
        rule = config_backends[account][region].config_rules[rule_name]
        entry = compliance_change_event(account, region, rule_name, rule.config_rule_arn, key[0], key[1], new, old)
        events_backends[account][region].put_events([entry])
        answer = {**answer, "event": "Config Rules Compliance Change", "compliance": new, "previous": old}
    return answer


def deliveries(body: bytes) -> dict[str, Any]:
    req = json.loads(body or b"{}")
    with _LOCK:
        out = list(DELIVERIES)
        if req.get("reset"):
            DELIVERIES.clear()
    return {"deliveries": out}


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    remediation.put_evaluation = put_evaluation  # the control endpoint looks it up at call time
    ctx.middleware.register_control("events/deliveries", lambda environ, body: deliveries(body))
