"""Revoke, by rule ID and in one call, the ingress rules that open a restricted port to the internet.

Embedded verbatim in the orgguard SSM Automation document (aws:executeScript, python3.11): standard
library and boto3 only. A rule is revoked only when it admits a restricted protocol (RestrictedProtocols:
tcp by default, udp when a control asks for it) to a restricted port (ranges containing it, or all
traffic) and its source is the whole internet: a 0.0.0.0/0 or ::/0 CIDR, or a managed prefix list holding
one (a list whose entries cannot be read counts as the internet: fail closed). Everything else
(security-group, narrower-CIDR and narrower-prefix-list sources, protocols not asked for, ICMP, egress)
is kept and reported with why.

Exemptions come only from ApprovedExemptions: the list the governance file approved, which synth writes
into this document's InputPayload, so the document hash covers it and no caller can pass another. An
entry exempts only the group it names, only in the account it names (AccountId is the execution's own
account, SSM's global:ACCOUNT_ID), through the end of its expiry date (UTC). A tag on the group is only a
label: it is reported and never exempts.
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
# RestrictedProtocols values -> the IpProtocol spellings DescribeSecurityGroupRules may return for them.
# Absent, the runbook restricts TCP only: what every TCP control's remediation always did.
PROTOCOL_NUMBERS = {"tcp": _TCP, "udp": ("udp", "17")}
DEFAULT_PROTOCOLS = ("tcp",)
Rule = dict[str, Any]
Pair = tuple[Rule, str]
PrefixLists = dict[str, dict[str, Any]]  # prefix list ID -> {"cidrs": [...]} or {"error": "<code>"}
_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")
_ACCOUNT_ID = re.compile(r"\d{12}")
_NOT_APPROVED = "tag seen but not approved in the governance file (exemptions.known); a tag alone never exempts"


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


def parse_protocols(value: Any) -> tuple[str, ...]:
    """RestrictedProtocols arrives as a StringList (or a CSV string); absent or empty means TCP only."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    protocols = set()
    for item in items:
        text = str(item).strip().lower()
        if text not in PROTOCOL_NUMBERS:
            raise ValueError(f'RestrictedProtocols: {item!r} is not tcp or udp; pass e.g. ["tcp", "udp"]')
        protocols.add(text)
    return tuple(sorted(protocols)) or DEFAULT_PROTOCOLS


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


def _reached(rule: Rule, ports: list[int], protocols: tuple[str, ...] = DEFAULT_PROTOCOLS) -> tuple[list[int], str]:
    """The restricted ports a rule's protocol and port range admit a restricted protocol to, or why none."""
    protocol = str(rule.get("IpProtocol"))
    if protocol == _ALL:
        return list(ports), ""
    if not any(protocol in PROTOCOL_NUMBERS[p] for p in protocols):
        names = " or ".join(p.upper() for p in protocols)
        return [], f"protocol {protocol} is not {names} or all traffic"
    low, high = rule.get("FromPort"), rule.get("ToPort")
    low = 0 if low is None or low < 0 else low
    high = 65535 if high is None or high < 0 else high
    reached = [p for p in ports if low <= p <= high]
    return reached, "" if reached else "port range reaches no restricted port"


def _ports(reached: list[int]) -> str:
    return ",".join(map(str, reached))


def classify(
    rule: Rule,
    ports: list[int],
    prefix_lists: PrefixLists | None = None,
    protocols: tuple[str, ...] = DEFAULT_PROTOCOLS,
) -> tuple[bool, str]:
    """Return (revoke, reason) for one DescribeSecurityGroupRules entry against the restricted ports.

    `prefix_lists` holds what was read of each prefix list a rule names; a list missing from it, or one
    whose read failed, is treated as holding the internet (fail closed). `protocols` are the restricted
    protocols (tcp, udp); all-traffic (-1) rules admit every one of them.
    """
    if rule.get("IsEgress"):
        return False, "egress rule"
    if rule.get("ReferencedGroupInfo"):
        return False, "source is a security group"
    list_id = rule.get("PrefixListId")
    if list_id:
        reached, why = _reached(rule, ports, protocols)
        if not reached:
            return False, f"{why} (source prefix list {list_id})"
        info = (prefix_lists or {}).get(list_id) or {"error": "not read"}
        if "error" in info:
            return True, (
                f"entries of prefix list {list_id} could not be read ({info['error']}), so it counts as the "
                f"internet (fail closed) on restricted port(s) {_ports(reached)}"
            )
        whole = [c for c in info.get("cidrs", []) if is_whole_internet(c)]
        if whole:
            return True, f"prefix list {list_id} holds {whole[0]}: open on restricted port(s) {_ports(reached)}"
        return False, f"prefix list {list_id} holds no whole-internet CIDR"
    cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6")
    if not cidr or not is_whole_internet(cidr):
        return False, f"source {cidr} is not the whole internet"
    reached, why = _reached(rule, ports, protocols)
    if not reached:
        return False, why
    return True, f"open to {cidr} on restricted port(s) {_ports(reached)}"


def select_rules(
    rules: list[Rule],
    ports: list[int],
    prefix_lists: PrefixLists | None = None,
    protocols: tuple[str, ...] = DEFAULT_PROTOCOLS,
) -> tuple[list[Pair], list[Pair]]:
    """Split rules into (revoke, keep): lists of (rule, reason). Pure (entries passed in), so property-tested."""
    revoke, keep = [], []
    for rule in rules:
        chosen, reason = classify(rule, ports, prefix_lists, protocols)
        (revoke if chosen else keep).append((rule, reason))
    return revoke, keep


def prefix_lists_to_read(
    rules: list[Rule], ports: list[int], protocols: tuple[str, ...] = DEFAULT_PROTOCOLS
) -> list[str]:
    """The prefix lists whose entries decide something: sources of ingress rules reaching a restricted port."""
    return sorted(
        {
            r["PrefixListId"]
            for r in rules
            if r.get("PrefixListId") and not r.get("IsEgress") and _reached(r, ports, protocols)[0]
        }
    )


def parse_approved(value: Any) -> list[dict[str, str]]:
    """The embedded ApprovedExemptions; an entry that is not well formed is dropped (it never exempts)."""
    out = []
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, dict):
            continue
        try:
            datetime.date.fromisoformat(str(entry.get("expires")))
        except ValueError:
            continue
        if _ACCOUNT_ID.fullmatch(str(entry.get("account_id"))) and _GROUP_ID.fullmatch(
            str(entry.get("security_group_id"))
        ):
            out.append({k: str(v) for k, v in entry.items() if v is not None})
    return out


def find_exemption(
    approved: list[dict[str, str]], account_id: str, group_id: str, today: datetime.date
) -> dict[str, Any] | None:
    """The approved entry for this account and group, valid through its expiry date (UTC) inclusive."""
    matches = [e for e in approved if e["account_id"] == account_id and e["security_group_id"] == group_id]
    if not matches:
        return None
    entry = max(matches, key=lambda e: e["expires"])
    state = "valid" if datetime.date.fromisoformat(entry["expires"]) >= today else "expired"
    return dict(entry, approved=True, state=state)


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


def _read_prefix_lists(ec2: _Ec2, list_ids: list[str]) -> PrefixLists:
    """Every page of each list's entries; a failed read is recorded, and classify treats it as the internet."""
    out: PrefixLists = {}
    for list_id in list_ids:
        cidrs: list[str] = []
        token = None
        try:
            while True:
                page = ec2.call(
                    "GetManagedPrefixListEntries",
                    PrefixListId=list_id,
                    MaxResults=100,
                    **({"NextToken": token} if token else {}),
                )
                cidrs.extend(e["Cidr"] for e in page.get("Entries", []) if e.get("Cidr"))
                token = page.get("NextToken")
                if not token:
                    break
        except ClientError as error:
            out[list_id] = {"error": error.response.get("Error", {}).get("Code") or "error"}
            continue
        out[list_id] = {"cidrs": cidrs}
    return out


def _prefix_list_report(lists: PrefixLists) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for list_id in sorted(lists)[:LIST_CAP]:
        info = lists[list_id]
        if "error" in info:
            report[list_id] = {"read": False, "error": info["error"]}
        else:
            whole = any(is_whole_internet(c) for c in info["cidrs"])
            report[list_id] = {"read": True, "entries": len(info["cidrs"]), "holds_whole_internet": whole}
    return report


def _exemption(
    approved: list[dict[str, str]], account_id: str, group: dict[str, Any], tag_key: str, today: datetime.date
) -> dict[str, Any] | None:
    """The approved entry that applies to this group, and the label tag if one is on it."""
    owner = str(group.get("OwnerId") or account_id)
    entry = find_exemption(approved, account_id, group["GroupId"], today) if owner == account_id else None
    tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
    if entry is None and tag_key not in tags:
        return None
    out: dict[str, Any] = dict(entry) if entry else {"approved": False, "state": "not-approved"}
    if tag_key in tags:
        out.update(tag_key=tag_key, tag_value=tags[tag_key][:256])
        if entry is None:
            out["note"] = _NOT_APPROVED
    return out


def remediate(
    client: Any,
    group_id: str,
    ports: list[int],
    tag_key: str,
    dry_run: bool,
    today: datetime.date,
    account_id: str = "",
    approved: list[dict[str, str]] | None = None,
    protocols: tuple[str, ...] = DEFAULT_PROTOCOLS,
) -> dict[str, Any]:
    """Describe the group, its rules and the prefix lists they name, then revoke the selected rules by ID."""
    ec2 = _Ec2(client)
    result = {
        "group_id": group_id,
        "account_id": account_id,
        "restricted_ports": ports,
        "restricted_protocols": list(protocols),
        "dry_run": dry_run,
        "exemption": None,
        "revoked": [],
        "would_revoke": [],
        "kept": [],
        "prefix_lists": {},
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
    result["vpc_id"] = groups[0].get("VpcId")
    valid_account = bool(_ACCOUNT_ID.fullmatch(account_id))
    result["exemption"] = _exemption((approved or []) if valid_account else [], account_id, groups[0], tag_key, today)
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
    rules = [r for r in rules if r.get("GroupId", group_id) == group_id]
    lists = _read_prefix_lists(ec2, prefix_lists_to_read(rules, ports, protocols))
    revoke, keep = select_rules(rules, ports, lists, protocols)
    result.update(
        kept=_capped(keep),
        kept_count=len(keep),
        revoke_count=len(revoke),
        prefix_lists=_prefix_list_report(lists),
        truncated=max(len(revoke), len(keep), len(lists)) > LIST_CAP,
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
    label = " (exemption tag seen but not approved)" if (result["exemption"] or {}).get("note") else ""
    return dict(
        result,
        status="REMEDIATED",
        revoked=_capped(revoke),
        message=f"{group_id}: revoked {len(revoke)} internet-open rule(s) reaching restricted ports{label}",
    )


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """SSM aws:executeScript entry point; InputPayload carries the parameters and the approved exemptions."""
    group_id = str(events.get("GroupId") or "").strip()
    if not _GROUP_ID.fullmatch(group_id):
        raise ValueError(f"GroupId: {group_id!r} is not a security group ID such as sg-0123456789abcdef0")
    ports = parse_ports(events.get("RestrictedPorts"))
    protocols = parse_protocols(events.get("RestrictedProtocols"))
    tag_key = str(events.get("ExemptionTagKey") or DEFAULT_TAG_KEY)
    dry_run = parse_bool(events.get("DryRun", False), "DryRun")
    account_id = str(events.get("AccountId") or "").strip()
    approved = parse_approved(events.get("ApprovedExemptions"))
    client = boto3.client("ec2", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    today = datetime.datetime.now(datetime.UTC).date()
    return remediate(client, group_id, ports, tag_key, dry_run, today, account_id, approved, protocols)
