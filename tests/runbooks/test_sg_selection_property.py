"""Property test: the handler's rule selection against an independent oracle that simulates packets.

The oracle never looks at prefix lengths or port-range containment the way the handler does: it asks
whether the rule would admit a TCP packet from *every* source address of its family to a restricted port,
by enumerating the network's first and last address and testing each restricted port against the range.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import handler_ns

PROTOCOL_NUMBERS = {"tcp": 6, "6": 6, "udp": 17, "17": 17, "icmp": 1, "1": 1, "icmpv6": 58, "58": 58, "-1": None}


def oracle_admits_tcp_from_everywhere(rule: dict[str, Any], port: int) -> bool:
    """Would this rule let a TCP packet from any internet address reach `port`?"""
    if rule.get("IsEgress") or "ReferencedGroupInfo" in rule or "PrefixListId" in rule:
        return False
    cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6")
    net = ipaddress.ip_network(cidr, strict=False)
    everyone = int(net[0]) == 0 and int(net[-1]) == (1 << net.max_prefixlen) - 1
    if not everyone:
        return False
    number = PROTOCOL_NUMBERS[rule["IpProtocol"]]
    if number is None:  # all protocols, all ports
        return True
    return number == 6 and rule["FromPort"] <= port <= rule["ToPort"]


port = st.one_of(st.sampled_from([0, 1, 21, 22, 23, 3388, 3389, 3390, 65534, 65535]), st.integers(0, 65535))


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    protocol = draw(st.sampled_from(sorted(PROTOCOL_NUMBERS)))
    rule: dict[str, Any] = {"SecurityGroupRuleId": "", "IsEgress": draw(st.booleans()), "IpProtocol": protocol}
    if protocol == "-1" or protocol in ("icmp", "1", "icmpv6", "58"):
        rule["FromPort"], rule["ToPort"] = -1, -1
    else:
        low, high = sorted((draw(port), draw(port)))
        rule["FromPort"], rule["ToPort"] = low, high
    source = draw(st.sampled_from(["v4", "v6", "sg", "pl"]))
    if source == "v4":
        address = draw(st.sampled_from(["0.0.0.0", "10.0.0.0", "128.0.0.0", "203.0.113.0"]))
        rule["CidrIpv4"] = f"{address}/{draw(st.sampled_from([0, 0, 1, 8, 24, 32]))}"
    elif source == "v6":
        address = draw(st.sampled_from(["::", "2001:db8::", "8000::", "fd00::"]))
        rule["CidrIpv6"] = f"{address}/{draw(st.sampled_from([0, 0, 1, 32, 64, 128]))}"
    elif source == "sg":
        rule["ReferencedGroupInfo"] = {"GroupId": "sg-0123456789abcdef0"}
    else:
        rule["PrefixListId"] = "pl-0123456789abcdef0"
    return rule


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    group=st.lists(rules(), max_size=12),
    restricted=st.lists(port, min_size=1, max_size=6, unique=True),
    source=st.sampled_from(["module", "document"]),
)
def test_selection_never_revokes_falsely_and_never_misses(
    group: list[dict[str, Any]], restricted: list[int], source: str
) -> None:
    for i, rule in enumerate(group):
        rule["SecurityGroupRuleId"] = f"sgr-{i:017x}"
    select = handler_ns("sg-revoke", source)["select_rules"]

    revoke, keep = select(group, sorted(restricted))

    chosen = {r["SecurityGroupRuleId"] for r, _ in revoke}
    expected = {
        r["SecurityGroupRuleId"] for r in group if any(oracle_admits_tcp_from_everywhere(r, p) for p in restricted)
    }
    assert chosen - expected == set(), "false revoke"
    assert expected - chosen == set(), "missed an internet-open rule"
    assert len(revoke) + len(keep) == len(group)
