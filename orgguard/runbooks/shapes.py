"""The rule-shape matrix: every ingress shape the revoke runbook must close or keep, as a specification.

Shared by the tests, the coverage bench and any live canary, so all three judge the same shapes.
`expected` is what a correct runbook does with restricted ports `RESTRICTED_PORTS` (22 and 3389) for TCP (the
document's default RestrictedProtocols, which every TCP control uses); `expected_udp` what it does when asked to
restrict TCP and UDP (restricted-ports-all-protocols). `managed_rule` is what AWS Config's
VPC_SG_PORT_RESTRICTION_CHECK (protocolType ALL, ipType ALL) reports for the shape, from its page
https://docs.aws.amazon.com/config/latest/developerguide/vpc-sg-port-restriction-check.html: "NON_COMPLIANT if
security groups allow incoming traffic from 0.0.0.0/0 or ::/0 over TCP/UDP ports 22/3389"; with ALL "the rule will
check for rules that use either 'TCP', 'UDP', or 'ALL' (-1) protocol". The page is silent on port ranges and
prefix-list sources: those shapes say "unconfirmed".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

RESTRICTED_PORTS = (22, 3389)
Expected = Literal["revoke", "keep"]
Detection = Literal["flagged", "not flagged", "unconfirmed"]
PrefixListKind = Literal["pl-any4-only", "pl-any4-mixed", "pl-any6", "pl-private", "pl-public"]
Source = Literal["ipv4-any", "ipv6-any", "ipv4-private", "ipv6-narrow", "security-group"] | PrefixListKind

# Each kind of managed prefix list a shape may name: (AddressFamily, entries). Create them with
# CreateManagedPrefixList and pass their IDs to RuleShape.permission(prefix_lists=...).
PREFIX_LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pl-any4-only": ("IPv4", ("0.0.0.0/0",)),
    "pl-any4-mixed": ("IPv4", ("10.0.0.0/8", "0.0.0.0/0")),
    "pl-any6": ("IPv6", ("::/0",)),
    "pl-private": ("IPv4", ("10.0.0.0/8", "192.168.0.0/16")),
    # Public, not private-use, ranges (198.51.100.0/24 and friends are documentation ranges, which Python's
    # ipaddress counts as private), such as a partner's or an office's egress addresses.
    "pl-public": ("IPv4", ("3.80.0.0/12", "44.192.0.0/11")),
}


@dataclass(frozen=True)
class RuleShape:
    """One ingress rule: protocol, port range and source kind, and whether it must be revoked."""

    name: str
    protocol: str
    from_port: int | None
    to_port: int | None
    source: Source
    expected: Expected
    expected_udp: Expected | None = None  # restricting TCP and UDP; None = the same as `expected`
    managed_rule: Detection = "not flagged"  # VPC_SG_PORT_RESTRICTION_CHECK with protocolType ALL

    def expected_for(self, protocols: tuple[str, ...]) -> Expected:
        """What a correct runbook does with this shape when it restricts `protocols` (tcp, udp)."""
        return (self.expected_udp or self.expected) if "udp" in protocols else self.expected

    def permission(
        self, *, group_ref: str | None = None, prefix_lists: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The IpPermissions entry that creates this rule (AuthorizeSecurityGroupIngress shape)."""
        perm: dict[str, Any] = {"IpProtocol": self.protocol}
        if self.from_port is not None:
            perm.update(FromPort=self.from_port, ToPort=self.to_port)
        if self.source == "ipv4-any":
            perm["IpRanges"] = [{"CidrIp": "0.0.0.0/0"}]
        elif self.source == "ipv6-any":
            perm["Ipv6Ranges"] = [{"CidrIpv6": "::/0"}]
        elif self.source == "ipv4-private":
            perm["IpRanges"] = [{"CidrIp": "10.0.0.0/8"}]
        elif self.source == "ipv6-narrow":
            perm["Ipv6Ranges"] = [{"CidrIpv6": "2001:db8::/32"}]
        elif self.source == "security-group":
            if not group_ref:
                raise ValueError(f"{self.name}: pass group_ref, the ID of the referenced security group")
            perm["UserIdGroupPairs"] = [{"GroupId": group_ref}]
        else:
            list_id = (prefix_lists or {}).get(self.source)
            if not list_id:
                raise ValueError(f"{self.name}: pass prefix_lists with the ID of a {self.source} prefix list")
            perm["PrefixListIds"] = [{"PrefixListId": list_id}]
        return perm


SHAPES: tuple[RuleShape, ...] = (
    RuleShape("22/tcp from 0.0.0.0/0", "tcp", 22, 22, "ipv4-any", "revoke", managed_rule="flagged"),
    RuleShape("22/tcp from ::/0", "tcp", 22, 22, "ipv6-any", "revoke", managed_rule="flagged"),
    RuleShape("3389/tcp from 0.0.0.0/0", "tcp", 3389, 3389, "ipv4-any", "revoke", managed_rule="flagged"),
    RuleShape("3389/tcp from ::/0", "tcp", 3389, 3389, "ipv6-any", "revoke", managed_rule="flagged"),
    RuleShape("all TCP (0-65535) from 0.0.0.0/0", "tcp", 0, 65535, "ipv4-any", "revoke", managed_rule="unconfirmed"),
    RuleShape("all TCP (0-65535) from ::/0", "tcp", 0, 65535, "ipv6-any", "revoke", managed_rule="unconfirmed"),
    RuleShape("all traffic (-1) from 0.0.0.0/0", "-1", None, None, "ipv4-any", "revoke", managed_rule="flagged"),
    RuleShape("all traffic (-1) from ::/0", "-1", None, None, "ipv6-any", "revoke", managed_rule="flagged"),
    RuleShape("tcp 20-30 (contains 22) from 0.0.0.0/0", "tcp", 20, 30, "ipv4-any", "revoke",
              managed_rule="unconfirmed"),
    RuleShape("tcp 3000-4000 (contains 3389) from ::/0", "tcp", 3000, 4000, "ipv6-any", "revoke",
              managed_rule="unconfirmed"),
    RuleShape("tcp 1000-2000 (no restricted port) from 0.0.0.0/0", "tcp", 1000, 2000, "ipv4-any", "keep"),
    RuleShape("udp 22 from 0.0.0.0/0", "udp", 22, 22, "ipv4-any", "keep", "revoke", "flagged"),
    RuleShape("icmp (all types) from 0.0.0.0/0", "icmp", -1, -1, "ipv4-any", "keep"),
    RuleShape("22/tcp from 10.0.0.0/8 (private)", "tcp", 22, 22, "ipv4-private", "keep"),
    RuleShape("22/tcp from 2001:db8::/32 (narrow IPv6)", "tcp", 22, 22, "ipv6-narrow", "keep"),
    RuleShape("all traffic from 10.0.0.0/8 (private)", "-1", None, None, "ipv4-private", "keep"),
    RuleShape("22/tcp from a security group", "tcp", 22, 22, "security-group", "keep"),
    RuleShape("22/tcp from a prefix list holding only 0.0.0.0/0", "tcp", 22, 22, "pl-any4-only", "revoke",
              managed_rule="unconfirmed"),
    RuleShape("22/tcp from a prefix list holding 10.0.0.0/8 and 0.0.0.0/0", "tcp", 22, 22, "pl-any4-mixed", "revoke",
              managed_rule="unconfirmed"),
    RuleShape("3389/tcp from a prefix list holding ::/0", "tcp", 3389, 3389, "pl-any6", "revoke",
              managed_rule="unconfirmed"),
    RuleShape("all traffic (-1) from a prefix list holding 0.0.0.0/0", "-1", None, None, "pl-any4-only", "revoke",
              managed_rule="unconfirmed"),
    RuleShape("443/tcp from a prefix list holding 0.0.0.0/0", "tcp", 443, 443, "pl-any4-only", "keep"),
    RuleShape("22/tcp from a prefix list of private CIDRs", "tcp", 22, 22, "pl-private", "keep"),
    RuleShape("22/tcp from a prefix list of public CIDRs only, no /0", "tcp", 22, 22, "pl-public", "keep"),
    RuleShape("443/tcp from 0.0.0.0/0", "tcp", 443, 443, "ipv4-any", "keep"),
    RuleShape("443/tcp from ::/0", "tcp", 443, 443, "ipv6-any", "keep"),
    # Beyond TCP (restricted-ports-all-protocols restricts UDP too; the TCP controls keep these).
    RuleShape("udp 3389 from 0.0.0.0/0", "udp", 3389, 3389, "ipv4-any", "keep", "revoke", "flagged"),
    RuleShape("udp 3389 from ::/0", "udp", 3389, 3389, "ipv6-any", "keep", "revoke", "flagged"),
    RuleShape("all UDP (0-65535) from ::/0", "udp", 0, 65535, "ipv6-any", "keep", "revoke", "unconfirmed"),
    RuleShape("udp 3000-4000 (contains 3389) from 0.0.0.0/0", "udp", 3000, 4000, "ipv4-any", "keep", "revoke",
              "unconfirmed"),
    RuleShape("udp 53 (no restricted port) from 0.0.0.0/0", "udp", 53, 53, "ipv4-any", "keep"),
    RuleShape("udp 3389 from 10.0.0.0/8 (private)", "udp", 3389, 3389, "ipv4-private", "keep"),
    RuleShape("udp 3389 from a prefix list holding 0.0.0.0/0", "udp", 3389, 3389, "pl-any4-only", "keep", "revoke",
              "unconfirmed"),
    RuleShape("udp 22 from a prefix list of private CIDRs", "udp", 22, 22, "pl-private", "keep"),
    RuleShape("icmpv6 (all types) from ::/0", "icmpv6", -1, -1, "ipv6-any", "keep"),
)  # fmt: skip


def create_prefix_lists(ec2: Any) -> dict[str, str]:
    """Create one managed prefix list of each kind in PREFIX_LISTS; return kind -> prefix list ID."""
    ids = {}
    for kind, (family, entries) in PREFIX_LISTS.items():
        created = ec2.create_managed_prefix_list(
            PrefixListName=f"orgguard-shape-{kind}",
            MaxEntries=len(entries),
            AddressFamily=family,
            Entries=[{"Cidr": cidr} for cidr in entries],
        )
        ids[kind] = created["PrefixList"]["PrefixListId"]
    return ids
