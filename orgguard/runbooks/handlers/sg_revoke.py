"""Revoke, by rule ID and in one call, the ingress rules that open a restricted TCP port to the internet.

Embedded verbatim in the orgguard SSM Automation document (aws:executeScript, python3.11): standard
library and boto3 only. A rule is revoked only when its source is a whole-internet CIDR (0.0.0.0/0 or
::/0) and it admits TCP to a restricted port (TCP ranges containing it, or all traffic). Everything else
(security-group, prefix-list and other-CIDR sources, UDP/ICMP, egress) is kept and reported with why.
Exemption tag value: owner=<email>;reason=<text>;expires=YYYY-MM-DD (exempt through that UTC date).
"""

import datetime
import ipaddress
import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

DEFAULT_TAG_KEY = "orgguard:exemption"
LIST_CAP = 100  # entries per reported list: keeps the output far below SSM's 100 KB limit
_TCP = ("tcp", "6")
_ALL = "-1"
Rule = dict[str, Any]
Pair = tuple[Rule, str]
_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")
_EXEMPTION = re.compile(r"owner=(?P<owner>[^;=]+);reason=(?P<reason>[^;=]+);expires=(?P<expires>\d{4}-\d{2}-\d{2})")


def parse_ports(value: Any) -> list[int]:
    """RestrictedPorts arrives as a StringList (or a CSV string); return sorted unique ints."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    ports = set()
    for item in items:
        text = str(item).strip()
        if not text.isdigit() or int(text) > 65535:
            raise ValueError(f'RestrictedPorts: {item!r} is not a port number 0-65535; pass e.g. ["22", "3389"]')
        ports.add(int(text))
    if not ports:
        raise ValueError('RestrictedPorts is empty; pass at least one port, e.g. ["22"]')
    return sorted(ports)


def parse_bool(value: Any, name: str) -> bool:
    """Config passes static values as strings, so accept "true"/"false" as well as booleans."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"{name}: {value!r} is not true or false")


def is_whole_internet(cidr: str) -> bool:
    """True for a CIDR covering every address of its family (0.0.0.0/0, ::/0 in any spelling)."""
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def classify(rule: Rule, ports: list[int]) -> tuple[bool, str]:
    """Return (revoke, reason) for one DescribeSecurityGroupRules entry against the restricted ports."""
    if rule.get("IsEgress"):
        return False, "egress rule"
    if rule.get("ReferencedGroupInfo"):
        return False, "source is a security group"
    if rule.get("PrefixListId"):
        return False, "source is a prefix list"
    cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6")
    if not cidr or not is_whole_internet(cidr):
        return False, f"source {cidr} is not the whole internet"
    protocol = str(rule.get("IpProtocol"))
    if protocol == _ALL:
        reached = ports
    elif protocol in _TCP:
        low, high = rule.get("FromPort"), rule.get("ToPort")
        low = 0 if low is None or low < 0 else low
        high = 65535 if high is None or high < 0 else high
        reached = [p for p in ports if low <= p <= high]
    else:
        return False, f"protocol {protocol} is not TCP or all traffic"
    if not reached:
        return False, "port range reaches no restricted port"
    return True, f"open to {cidr} on restricted port(s) {','.join(map(str, reached))}"


def select_rules(rules: list[Rule], ports: list[int]) -> tuple[list[Pair], list[Pair]]:
    """Split rules into (revoke, keep): lists of (rule, reason). Pure, so it is property-tested."""
    revoke, keep = [], []
    for rule in rules:
        chosen, reason = classify(rule, ports)
        (revoke if chosen else keep).append((rule, reason))
    return revoke, keep


def parse_exemption(value: str | None, today: datetime.date) -> dict[str, str]:
    """Read an exemption tag value; a malformed value never exempts (it is reported instead)."""
    match = _EXEMPTION.fullmatch((value or "").strip())
    if not match:
        return {
            "state": "malformed",
            "value": (value or "")[:256],
            "error": "expected owner=<email>;reason=<text>;expires=YYYY-MM-DD",
        }
    info = {k: v.strip() for k, v in match.groupdict().items()}
    try:
        expires = datetime.date.fromisoformat(info["expires"])
    except ValueError:
        return dict(info, state="malformed", error=f"expires {info['expires']} is not a real date")
    return dict(info, state="valid" if expires >= today else "expired")


def _summary(rule: Rule, reason: str) -> dict[str, Any]:
    protocol = str(rule.get("IpProtocol"))
    ports = "all" if protocol == _ALL else f"{rule.get('FromPort')}-{rule.get('ToPort')}"
    source = (
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or rule.get("PrefixListId")
        or (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    )
    return {
        "rule_id": rule.get("SecurityGroupRuleId"),
        "egress": bool(rule.get("IsEgress")),
        "protocol": protocol,
        "ports": ports,
        "source": source,
        "reason": reason,
    }


def _capped(pairs: list[Pair]) -> list[dict[str, Any]]:
    return [_summary(rule, reason) for rule, reason in pairs[:LIST_CAP]]


class _Ec2:
    """Counts every API call the runbook makes, so tests and the bench can measure calls per run."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: dict[str, int] = {}

    def call(self, operation: str, **kwargs: Any) -> Any:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        return getattr(self.client, re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower())(**kwargs)


def _not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "InvalidGroup.NotFound"


def remediate(
    client: Any, group_id: str, ports: list[int], tag_key: str, dry_run: bool, today: datetime.date
) -> dict[str, Any]:
    """Describe the group and its rules, then revoke the selected ingress rules by ID in one call."""
    ec2 = _Ec2(client)
    result = {
        "group_id": group_id,
        "restricted_ports": ports,
        "dry_run": dry_run,
        "exemption": None,
        "revoked": [],
        "would_revoke": [],
        "kept": [],
        "truncated": False,
        "api_calls": ec2.calls,
    }
    try:
        groups = ec2.call("DescribeSecurityGroups", GroupIds=[group_id])["SecurityGroups"]
    except ClientError as error:
        if not _not_found(error):
            raise
        groups = []
    if not groups:
        return dict(result, status="GROUP_NOT_FOUND", message=f"{group_id} no longer exists; nothing to do")
    tags = {t["Key"]: t["Value"] for t in groups[0].get("Tags", [])}
    result["vpc_id"] = groups[0].get("VpcId")
    if tag_key in tags:
        result["exemption"] = dict(parse_exemption(tags[tag_key], today), tag_key=tag_key)
    rules, token = [], None
    while True:
        page = ec2.call(
            "DescribeSecurityGroupRules",
            Filters=[{"Name": "group-id", "Values": [group_id]}],
            MaxResults=1000,
            **({"NextToken": token} if token else {}),
        )
        rules.extend(page.get("SecurityGroupRules", []))
        token = page.get("NextToken")
        if not token:
            break
    revoke, keep = select_rules([r for r in rules if r.get("GroupId", group_id) == group_id], ports)
    result.update(
        kept=_capped(keep),
        kept_count=len(keep),
        revoke_count=len(revoke),
        truncated=max(len(revoke), len(keep)) > LIST_CAP,
    )
    exempt = (result["exemption"] or {}).get("state") == "valid"
    if exempt or dry_run or not revoke:
        status = "EXEMPT" if exempt else "DRY_RUN" if dry_run and revoke else "COMPLIANT"
        return dict(
            result,
            status=status,
            would_revoke=_capped(revoke),
            message=f"{group_id}: {len(revoke)} rule(s) match, none revoked ({status.lower()})",
        )
    try:
        ec2.call(
            "RevokeSecurityGroupIngress",
            GroupId=group_id,
            SecurityGroupRuleIds=[rule["SecurityGroupRuleId"] for rule, _ in revoke],
        )
    except ClientError as error:
        if _not_found(error):
            return dict(result, status="GROUP_NOT_FOUND", message=f"{group_id} was deleted during the run")
        raise RuntimeError(
            f"{group_id}: revoke failed ({error}); its rules may have changed during the run, "
            "and the next remediation attempt describes them again"
        ) from error
    return dict(
        result,
        status="REMEDIATED",
        revoked=_capped(revoke),
        message=f"{group_id}: revoked {len(revoke)} internet-open rule(s) reaching restricted ports",
    )


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """SSM aws:executeScript entry point; InputPayload carries the document parameters."""
    group_id = str(events.get("GroupId") or "").strip()
    if not _GROUP_ID.fullmatch(group_id):
        raise ValueError(f"GroupId: {group_id!r} is not a security group ID such as sg-0123456789abcdef0")
    ports = parse_ports(events.get("RestrictedPorts"))
    tag_key = str(events.get("ExemptionTagKey") or DEFAULT_TAG_KEY)
    dry_run = parse_bool(events.get("DryRun", False), "DryRun")
    client = boto3.client("ec2", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    today = datetime.datetime.now(datetime.UTC).date()
    return remediate(client, group_id, ports, tag_key, dry_run, today)
