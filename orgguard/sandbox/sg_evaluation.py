"""On-demand evaluation of the security-group managed rules, and Config's automatic remediation of what they flag.

moto 5.2.5 evaluates no Config rule. ``StartConfigRulesEvaluation`` (orgguard/sandbox/config_evaluation.py shapes
it like botocore's ``config`` model) is wrapped here: a rule whose source is one of the managed identifiers below
is evaluated on every security group of moto's EC2 backend in that account and region, as the rule's AWS page
describes it, and the results go where ``GetComplianceDetailsByConfigRule`` reads them
(orgguard/sandbox/remediation.py). Any other rule goes on to the wrapped call unchanged.

Periodic rules (VPC_SG_PORT_RESTRICTION_CHECK is periodic only): the sandbox has no clock that runs them; a test
or the demo calls StartConfigRulesEvaluation, which "runs an on-demand evaluation" of periodic and change-triggered
rules alike (StartConfigRulesEvaluation API reference), and that is the sandbox's only trigger.

Automatic remediation: when the rule has a remediation configuration with ``Automatic: true``, each resource the
evaluation found NON_COMPLIANT (and that has no remediation exception) gets an SSM Automation execution of the
configuration's target document with its parameters (``StaticValue`` as given, ``ResourceValue: RESOURCE_ID`` the
group id), run by orgguard/sandbox/automation.py under the document's assumeRole: what AWS Config does for an
automatic remediation ("AWS Config ... automatically remediates the noncompliant resources", Remediating
Noncompliant Resources, AWS Config Developer Guide). Retries (MaximumAutomaticAttempts) are not modelled.

Which rule shapes each identifier flags, and where the page says nothing, is written in docs/sandbox.md.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.ec2.models import ec2_backends

from orgguard.sandbox import automation, remediation

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
Verdict = tuple[str, str]  # (ComplianceType, Annotation)
# One ingress rule as the evaluators read it: protocol, low/high port (None = every port), CIDR (None = no CIDR).
Ingress = tuple[str, int | None, int | None, str | None]


def _csv_ports(text: str) -> list[int]:
    return [int(p) for p in text.replace(" ", "").split(",") if p.isdigit()]


def _whole_internet(cidr: str | None) -> bool:
    """An explicit 0.0.0.0/0 or ::/0 source (any spelling); prefix lists and group sources are not CIDRs."""
    try:
        return cidr is not None and ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _ingress(group: Any) -> list[Ingress]:
    rules = []
    for rule in getattr(group, "ingress_rules", []):
        cidr = rule.ip_range.get("CidrIp") or rule.ip_range.get("CidrIpv6")
        low, high = (None, None) if rule.ip_protocol == "-1" else (rule.from_port, rule.to_port)
        rules.append((str(rule.ip_protocol), low, high, cidr))
    return rules


def _reaches(low: int | None, high: int | None, port: int) -> bool:
    """A range containing the port counts (the sandbox's reading; see docs/sandbox.md, UNCONFIRMED for AWS)."""
    return low is None or low < 0 or (low <= port <= (high if high is not None and high >= 0 else 65535))


def _open(group: Any, protocols: set[str], ports: list[int], families: set[int]) -> list[str]:
    """The '<protocol> <port> from <cidr>' findings of the group's ingress rules."""
    found = []
    for protocol, low, high, cidr in _ingress(group):
        if protocol not in protocols or not _whole_internet(cidr):
            continue
        if ipaddress.ip_network(str(cidr), strict=False).version not in families:
            continue
        found += [f"{protocol} {port} from {cidr}" for port in ports if _reaches(low, high, port)]
    return found


def _verdict(found: list[str], what: str) -> Verdict:
    if found:
        return "NON_COMPLIANT", ("open to the internet: " + ", ".join(found))[:256]
    return "COMPLIANT", f"no {what} open to 0.0.0.0/0 or ::/0"


def vpc_sg_port_restriction_check(group: Any, params: dict[str, Any]) -> Verdict:
    """vpc-sg-port-restriction-check: NON_COMPLIANT "if security groups allow incoming traffic from 0.0.0.0/0 or
    ::/0 over TCP/UDP ports 22/3389 or as specified in parameters"; restrictPorts (default 22 and 3389),
    protocolType TCP/UDP/ALL ("If set to 'ALL', the rule will check for rules that use either 'TCP', 'UDP', or
    'ALL' (-1) protocol"; default ALL), ipType IPv4/IPv6/ALL (default ALL), both case-insensitive."""
    ports = _csv_ports(str(params.get("restrictPorts") or "22,3389")) or [22, 3389]
    protocol_type = str(params.get("protocolType") or "ALL").upper()
    protocols = {"TCP": {"tcp"}, "UDP": {"udp"}}.get(protocol_type, {"tcp", "udp", "-1"})
    ip_type = str(params.get("ipType") or "ALL").upper()
    families = {"IPV4": {4}, "IPV6": {6}}.get(ip_type, {4, 6})
    return _verdict(_open(group, protocols, ports, families), f"{protocol_type} port of {ports}")


def restricted_incoming_traffic(group: Any, params: dict[str, Any]) -> Verdict:
    """restricted-common-ports: "Checks if the security groups in use do not allow unrestricted incoming TCP
    traffic to the specified ports"; blockedPort1-5 default 20, 21, 3389, 3306, 4333. TCP only: UDP never counts.
    An all-traffic (-1) rule admits TCP, so it counts (the page does not say; UNCONFIRMED)."""
    defaults = {1: 20, 2: 21, 3: 3389, 4: 3306, 5: 4333}
    if params.get("blockedPorts"):
        ports = _csv_ports(str(params["blockedPorts"]))
    else:
        ports = [int(params.get(f"blockedPort{i}") or d) for i, d in defaults.items()]
    return _verdict(_open(group, {"tcp", "-1"}, sorted(set(ports)), {4, 6}), f"TCP port of {sorted(set(ports))}")


def incoming_ssh_disabled(group: Any, params: dict[str, Any]) -> Verdict:
    """restricted-ssh: COMPLIANT "if the IP addresses of the incoming SSH traffic in the security groups are
    restricted (CIDR other than 0.0.0.0/0 or ::/0)"; SSH is 22/tcp, and all-traffic rules admit it."""
    return _verdict(_open(group, {"tcp", "-1"}, [22], {4, 6}), "SSH (22/tcp)")


EVALUATORS: dict[str, Callable[[Any, dict[str, Any]], Verdict]] = {
    "VPC_SG_PORT_RESTRICTION_CHECK": vpc_sg_port_restriction_check,
    "RESTRICTED_INCOMING_TRAFFIC": restricted_incoming_traffic,
    "INCOMING_SSH_DISABLED": incoming_ssh_disabled,
}


def evaluate(account_id: str, region: str, rule_name: str) -> list[str] | None:
    """Evaluate one rule on every security group there; the NON_COMPLIANT group ids, or None if not an SG rule.

    Each result is recorded through remediation.put_evaluation, looked up at call time, so whatever else the
    sandbox does with a recorded result (events.py puts the compliance-change event on the default bus when it
    changed) happens for these too."""
    rule = config_backends[account_id][region].config_rules[rule_name]
    source = rule.source
    evaluator = EVALUATORS.get(str(source.source_identifier)) if source.owner == "AWS" else None
    if evaluator is None:
        return None
    params = dict(getattr(rule, "input_parameters_dict", None) or {})
    groups = {g.id: g for by_vpc in ec2_backends[account_id][region].groups.values() for g in by_vpc.values()}
    with remediation._LOCK:
        stored = remediation.EVALUATIONS.setdefault((account_id, region), {}).setdefault(rule_name, {})
        for key in [k for k in stored if k[0] == SECURITY_GROUP and k[1] not in groups]:
            del stored[key]  # deleted groups leave the scope
    flagged = []
    for group_id, group in sorted(groups.items()):
        compliance, annotation = evaluator(group, params)
        body = {
            "account_id": account_id,
            "region": region,
            "config_rule_name": rule_name,
            "resource_type": SECURITY_GROUP,
            "resource_id": group_id,
            "compliance_type": compliance,
            "annotation": annotation,
        }
        remediation.put_evaluation(json.dumps(body).encode())
        if compliance == "NON_COMPLIANT":
            flagged.append(group_id)
    return flagged


def remediate(account_id: str, region: str, rule_name: str, group_ids: list[str]) -> list[str]:
    """Start the automatic remediation of each flagged group, as Config would; the execution ids started."""
    with remediation._LOCK:
        config = remediation.STORE.get((account_id, region), {}).get(rule_name)
        excepted = set(remediation.EXCEPTIONS.get((account_id, region), {}).get(rule_name, {}))
    if not config or not config.get("Automatic") or config.get("TargetType", "SSM_DOCUMENT") != "SSM_DOCUMENT":
        return []
    started = []
    for group_id in group_ids:
        if (SECURITY_GROUP, group_id) in excepted:
            continue  # "Remediation exceptions blocks auto-remediation until the exception is cleared"
        given: dict[str, list[str]] = {}
        for name, value in (config.get("Parameters") or {}).items():
            if "ResourceValue" in value:
                given[name] = [group_id]
            else:
                given[name] = list((value.get("StaticValue") or {}).get("Values") or [])
        doc, version = automation._document(account_id, region, str(config["TargetId"]), config.get("TargetVersion"))
        execution = automation.Execution(
            id=str(uuid.uuid4()),
            account_id=account_id,
            region=region,
            document_name=str(config["TargetId"]),
            document_version=version,
            parameters=given,
            executed_by=f"arn:aws:sts::{account_id}:assumed-role/AWSServiceRoleForConfig/config",
        )
        params = automation.resolve_parameters(doc, given)
        with automation._LOCK:
            automation.EXECUTIONS.setdefault((account_id, region), {})[execution.id] = execution
        threading.Thread(target=automation._execute, args=(execution, doc, params), daemon=True).start()
        started.append(execution.id)
    return started


def _wrap(original: Callable[[Any], str] | None) -> Callable[[Any], str]:
    """Evaluate (and remediate) the SG rules named, then let the wrapped call evaluate the rest: it leaves a
    rule it cannot evaluate alone, so passing it every name is harmless, and it checks the request again."""

    def start_config_rules_evaluation(self: Any) -> str:
        account, region = self.current_account, self.region
        names = self._get_param("ConfigRuleNames") or []
        rules = config_backends[account][region].config_rules
        if not isinstance(names, list) or not 1 <= len(names) <= 25:
            raise remediation.ConfigError("InvalidParameterValueException", "Give 1-25 ConfigRuleNames.")
        for name in names:
            if name not in rules:
                raise remediation.ConfigError(
                    "NoSuchConfigRuleException", f"The ConfigRule '{name}' provided in the request is invalid."
                )
        for name in names:
            flagged = evaluate(account, region, name)
            if flagged:
                remediate(account, region, name, flagged)
        return original(self) if original is not None else json.dumps({})

    start_config_rules_evaluation.sg_evaluation = True  # type: ignore[attr-defined]
    return start_config_rules_evaluation


def install(ctx: ServerContext) -> None:
    """After config_evaluation (server.EXTENSIONS order), whose StartConfigRulesEvaluation this wraps."""
    original = getattr(ConfigResponse, "start_config_rules_evaluation", None)
    if getattr(original, "sg_evaluation", False):
        return  # installed already
    ConfigResponse.start_config_rules_evaluation = _wrap(original)  # type: ignore[attr-defined]
