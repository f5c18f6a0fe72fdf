"""Property test: the handler's rule selection against an independent oracle that simulates packets.

The oracle never looks at prefix lengths or port-range containment the way the handler does: it asks
whether the rule would admit a packet of a restricted protocol (TCP, and UDP when restricted: protocol
numbers 6 and 17 of IANA's registry, as EC2 accepts them by name or number) from *every* source address of
its family to a restricted port, by enumerating the network's first and last address and testing each
restricted port against the range. An all-traffic (-1) rule admits every protocol; ICMP never counts.
A prefix-list source admits everyone when any of its entries does; a list whose entries could not be read
(or were never read) is taken to admit everyone: the runbook's documented fail-closed rule.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import handler_ns

PROTOCOL_NUMBERS = {"tcp": 6, "6": 6, "udp": 17, "17": 17, "icmp": 1, "1": 1, "icmpv6": 58, "58": 58, "-1": None}


def _everyone(cidr: str) -> bool:
    net = ipaddress.ip_network(cidr, strict=False)
    return int(net[0]) == 0 and int(net[-1]) == (1 << net.max_prefixlen) - 1


PACKET_PROTOCOLS = {"tcp": 6, "udp": 17}  # what a RestrictedProtocols value means, as a protocol number


def oracle_admits_from_everywhere(
    rule: dict[str, Any], port: int, lists: dict[str, Any], protocols: tuple[str, ...] = ("tcp",)
) -> bool:
    """Would this rule let a packet of one of `protocols` from any internet address reach `port`?"""
    if rule.get("IsEgress") or "ReferencedGroupInfo" in rule:
        return False
    if "PrefixListId" in rule:
        info = lists.get(rule["PrefixListId"])
        everyone = info is None or "error" in info or any(_everyone(c) for c in info["cidrs"])
    else:
        everyone = _everyone(rule.get("CidrIpv4") or rule.get("CidrIpv6"))
    if not everyone:
        return False
    number = PROTOCOL_NUMBERS[rule["IpProtocol"]]
    if number is None:  # all protocols, all ports
        return True
    wanted = {PACKET_PROTOCOLS[p] for p in protocols}
    return number in wanted and rule["FromPort"] <= port <= rule["ToPort"]


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
        rule["PrefixListId"] = draw(st.sampled_from(LIST_IDS))
    return rule


LIST_IDS = ["pl-0123456789abcdef0", "pl-0fedcba9876543210", "pl-00000000000000001"]
V4_ENTRIES = ["0.0.0.0/0", "10.0.0.0/8", "128.0.0.0/1", "203.0.113.0/24", "0.0.0.0/1"]
V6_ENTRIES = ["::/0", "2001:db8::/32", "8000::/1", "fd00::/8"]


@st.composite
def prefix_lists(draw: st.DrawFn) -> dict[str, Any]:
    """What the runbook read of each list: entries of one family, a read error, or nothing (never read)."""
    out: dict[str, Any] = {}
    for list_id in LIST_IDS:
        kind = draw(st.sampled_from(["v4", "v6", "error", "absent"]))
        if kind == "error":
            out[list_id] = {"error": draw(st.sampled_from(["AccessDenied", "InvalidPrefixListID.NotFound"]))}
        elif kind != "absent":
            pool = V4_ENTRIES if kind == "v4" else V6_ENTRIES
            out[list_id] = {"cidrs": draw(st.lists(st.sampled_from(pool), max_size=4))}
    return out


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    group=st.lists(rules(), max_size=12),
    restricted=st.lists(port, min_size=1, max_size=6, unique=True),
    lists=prefix_lists(),
    source=st.sampled_from(["module", "document"]),
    protocols=st.sampled_from([None, ("tcp",), ("udp",), ("tcp", "udp")]),
)
def test_selection_never_revokes_falsely_and_never_misses(
    group: list[dict[str, Any]],
    restricted: list[int],
    lists: dict[str, Any],
    source: str,
    protocols: tuple[str, ...] | None,
) -> None:
    """None: RestrictedProtocols left out, as every TCP control passes it, which must mean TCP only."""
    for i, rule in enumerate(group):
        rule["SecurityGroupRuleId"] = f"sgr-{i:017x}"
    select = handler_ns("sg-revoke", source)["select_rules"]

    if protocols is None:
        revoke, keep = select(group, sorted(restricted), lists)
    else:
        revoke, keep = select(group, sorted(restricted), lists, protocols)

    chosen = {r["SecurityGroupRuleId"] for r, _ in revoke}
    expected = {
        r["SecurityGroupRuleId"]
        for r in group
        if any(oracle_admits_from_everywhere(r, p, lists, protocols or ("tcp",)) for p in restricted)
    }
    assert chosen - expected == set(), "false revoke"
    assert expected - chosen == set(), "missed an internet-open rule"
    assert len(revoke) + len(keep) == len(group)


@settings(max_examples=300, deadline=None)
@given(
    group=st.lists(rules(), max_size=12),
    restricted=st.lists(port, min_size=1, max_size=6, unique=True),
    protocols=st.sampled_from([("tcp",), ("udp",), ("tcp", "udp")]),
)
def test_the_handler_reads_exactly_the_prefix_lists_that_decide_something(
    group: list[dict[str, Any]], restricted: list[int], protocols: tuple[str, ...]
) -> None:
    """A list is read only when an ingress rule naming it reaches a restricted port: fewer calls, same verdicts."""
    for i, rule in enumerate(group):
        rule["SecurityGroupRuleId"] = f"sgr-{i:017x}"
    wanted = set(handler_ns("sg-revoke", "module")["prefix_lists_to_read"](group, sorted(restricted), protocols))
    select = handler_ns("sg-revoke", "module")["select_rules"]
    unread = {i: {"error": "not read"} for i in LIST_IDS if i not in wanted}
    everything = {i: {"cidrs": []} for i in LIST_IDS}
    # lists outside `wanted` cannot change any verdict: reading them as empty or failing gives the same split
    a, _ = select(group, sorted(restricted), {**everything, **unread}, protocols)
    b, _ = select(group, sorted(restricted), everything, protocols)
    chosen_a = {r["SecurityGroupRuleId"] for r, _ in a if r.get("PrefixListId") not in wanted}
    chosen_b = {r["SecurityGroupRuleId"] for r, _ in b if r.get("PrefixListId") not in wanted}
    assert chosen_a == chosen_b
