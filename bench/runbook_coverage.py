"""Coverage bench: three security-group remediations against every rule shape, in moto, in a non-default VPC.

Approaches:
  aws-managed  emulates AWS-DisablePublicAccessForSecurityGroup: four aws:executeAwsApi steps, each one
               exact-permission RevokeSecurityGroupIngress (22 and 3389, 0.0.0.0/0 and ::/0), onFailure Continue,
               plus the newer version's aws:executeScript step that revokes 22/3389 rules whose managed prefix
               list holds only public CIDRs (modelled from its description: its script text is not public here).
  seed-clone   the clone from seed 004: the four exact steps plus all-TCP (0-65535) and all-traffic (-1) from
               0.0.0.0/0 (the article adds IPv4 steps only, and predates the prefix-list step).
  orgguard     the handler embedded in orgguard's rendered document (its Script text is executed), as the TCP
               controls run it (RestrictedProtocols left at its default, tcp) and as restricted-ports-all-protocols
               runs it (RestrictedProtocols tcp and udp), each judged against its own expectation.

For each shape a fresh group holds that one rule; the bench runs the approach, then checks whether the rule
is still there. It also runs all shapes in one group to count API calls per remediation. moto fails an
unmatched permission but applies a multi-permission revoke permission by permission, so the bench enforces
the documented non-default-VPC behaviour itself (an unmatched permission fails the whole call, nothing is
revoked) and records what moto alone does in the generated page.

    .venv/bin/python bench/runbook_coverage.py [--out docs/runbook-coverage.md]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orgguard.runbooks import RUNBOOKS  # noqa: E402
from orgguard.runbooks.shapes import RESTRICTED_PORTS, SHAPES, RuleShape, create_prefix_lists  # noqa: E402

REGION = "us-east-1"
ALL_PROTOCOLS = "orgguard RevokePublicSgIngress, tcp+udp (restricted-ports-all-protocols)"
V4, V6 = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, {"Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
AWS_MANAGED_STEPS = [
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, **V4},
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, **V6},
    {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, **V4},
    {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, **V6},
]
SEED_CLONE_STEPS = [
    *AWS_MANAGED_STEPS,
    {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, **V4},
    {"IpProtocol": "-1", **V4},
]

Outcome = dict[str, Any]  # calls, failed_steps, error


def _steps(permissions: list[dict[str, Any]]) -> Callable[[Any, str], Outcome]:
    """One RevokeSecurityGroupIngress per step, onFailure Continue: a failing step never stops the run."""

    def run(ec2: Any, group_id: str) -> Outcome:
        failed = 0
        for permission in permissions:
            try:
                ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[permission])
            except ClientError:
                failed += 1
        return {"calls": len(permissions), "failed_steps": failed, "error": None}

    return run


def _aws_managed(ec2: Any, group_id: str) -> Outcome:
    """The four exact steps, then the prefix-list step: describe the rules, read each 22/3389 rule's prefix
    list, revoke those whose every entry is a public (not private-use) CIDR, by rule ID."""
    outcome = _steps(AWS_MANAGED_STEPS)(ec2, group_id)
    calls = 1
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    chosen = []
    for rule in rules["SecurityGroupRules"]:
        single = rule.get("FromPort") == rule.get("ToPort") and rule.get("FromPort") in (22, 3389)
        if rule["IsEgress"] or not rule.get("PrefixListId") or rule["IpProtocol"] != "tcp" or not single:
            continue
        calls += 1
        entries = ec2.get_managed_prefix_list_entries(PrefixListId=rule["PrefixListId"])["Entries"]
        if entries and all(not ipaddress.ip_network(e["Cidr"]).is_private for e in entries):
            chosen.append(rule["SecurityGroupRuleId"])
    if chosen:
        calls += 1
        ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=chosen)
    return dict(outcome, calls=outcome["calls"] + calls)


def _orgguard(protocols: tuple[str, ...] = ()) -> Callable[[Any, str], Outcome]:
    """The document's Script; `protocols` set RestrictedProtocols (empty: left at the document's default)."""
    namespace: dict[str, Any] = {"__name__": "embedded_sg_revoke"}
    script = json.loads(RUNBOOKS["sg-revoke"].render_document())["mainSteps"][0]["inputs"]["Script"]
    exec(compile(script, "<sg-revoke document>", "exec"), namespace)

    def run(ec2: Any, group_id: str) -> Outcome:
        events: dict[str, Any] = {
            "GroupId": group_id,
            "RestrictedPorts": [str(p) for p in RESTRICTED_PORTS],
            "DryRun": "false",
        }
        if protocols:
            events["RestrictedProtocols"] = list(protocols)
        try:
            result = namespace["handler"](events, None)
        except Exception as exc:  # a failed run is a result here, not a crash
            return {"calls": None, "failed_steps": 1, "error": str(exc)}
        return {"calls": sum(result["api_calls"].values()), "failed_steps": 0, "error": None}

    return run


APPROACHES: dict[str, Callable[[Any, str], Outcome]] = {
    "AWS-DisablePublicAccessForSecurityGroup": _aws_managed,
    "seed 004 clone (+all TCP, +all traffic)": _steps(SEED_CLONE_STEPS),
    "orgguard RevokePublicSgIngress": _orgguard(),
    ALL_PROTOCOLS: _orgguard(("tcp", "udp")),
}
# Which protocols each approach restricts, so each is judged against RuleShape.expected_for() of its own.
PROTOCOLS: dict[str, tuple[str, ...]] = {ALL_PROTOCOLS: ("tcp", "udp")}


def _expected(name: str, shape: RuleShape) -> str:
    return shape.expected_for(PROTOCOLS.get(name, ("tcp",)))


class Sandbox:
    """A non-default VPC with a referenced group and a prefix list, inside one moto context."""

    def __init__(self) -> None:
        self.raw = boto3.client("ec2", region_name=REGION)
        self.ec2 = NonDefaultVpcEc2(self.raw)
        self.vpc = self.ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        self.refs: dict[str, Any] = {
            "group_ref": self.group("referenced"),
            "prefix_lists": create_prefix_lists(self.ec2),
        }
        self.count = 0

    def group(self, name: str) -> str:
        return self.ec2.create_security_group(GroupName=name, Description="bench", VpcId=self.vpc)["GroupId"]

    def ingress_ids(self, group_id: str) -> set[str]:
        rules = self.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
        return {r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if not r["IsEgress"]}

    def group_with(self, shapes: tuple[RuleShape, ...]) -> tuple[str, dict[str, RuleShape]]:
        self.count += 1
        group_id = self.group(f"g{self.count}")
        ids: dict[str, RuleShape] = {}
        for shape in shapes:
            before = self.ingress_ids(group_id)
            self.ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[shape.permission(**self.refs)])
            (new,) = self.ingress_ids(group_id) - before
            ids[new] = shape
        return group_id, ids


def _matches(permission: dict[str, Any], rule: dict[str, Any]) -> bool:
    """Does a described rule equal one (protocol, ports, CIDR) of an exact-match IpPermissions entry?"""
    if rule["IsEgress"] or rule["IpProtocol"] != permission["IpProtocol"]:
        return False
    if permission["IpProtocol"] != "-1" and (rule["FromPort"], rule["ToPort"]) != (
        permission["FromPort"],
        permission["ToPort"],
    ):
        return False
    cidrs = [r["CidrIp"] for r in permission.get("IpRanges", [])] + [
        r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])
    ]
    return (rule.get("CidrIpv4") or rule.get("CidrIpv6")) in cidrs


class NonDefaultVpcEc2:
    """EC2 client whose exact-match revoke fails as a whole when any permission is unmatched (AWS-FACTS.md).

    moto fails an unmatched permission, but applies a multi-permission call permission by permission, so an
    earlier matched permission is already revoked when a later one fails. This wrapper checks every
    permission first and raises InvalidPermission.NotFound without revoking anything, as AWS does in a
    non-default VPC. Its checks are emulation, not API calls of the approach, and are not counted.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def revoke_security_group_ingress(self, **kwargs: Any) -> Any:
        if "IpPermissions" in kwargs:
            filters = [{"Name": "group-id", "Values": [kwargs["GroupId"]]}]
            rules = self._client.describe_security_group_rules(Filters=filters)["SecurityGroupRules"]
            for permission in kwargs["IpPermissions"]:
                if not any(_matches(permission, rule) for rule in rules):
                    error = {"Error": {"Code": "InvalidPermission.NotFound", "Message": "emulated: rule not found"}}
                    raise ClientError(error, "RevokeSecurityGroupIngress")
        return self._client.revoke_security_group_ingress(**kwargs)


def probe_moto(box: Sandbox) -> str:
    """Record how moto itself treats a revoke naming one present and one absent permission."""
    group_id, ids = box.group_with((SHAPES[0],))
    try:
        box.raw.revoke_security_group_ingress(
            GroupId=group_id, IpPermissions=[AWS_MANAGED_STEPS[0], AWS_MANAGED_STEPS[2]]
        )
    except ClientError as error:
        code = error.response["Error"]["Code"]
        kept = box.ingress_ids(group_id) == set(ids)
        return f"moto answers `{code}` and " + (
            "revokes nothing (whole-call failure reproduced)" if kept else "has already revoked the present one"
        )
    return "moto accepted the partially-unmatched call"


def measure() -> dict[str, Any]:
    started = time.perf_counter()
    with mock_aws():
        box = Sandbox()
        probe = probe_moto(box)
        table: list[dict[str, Any]] = []
        for shape in SHAPES:
            row: dict[str, Any] = {
                "shape": shape.name,
                "expected": shape.expected,
                "expected_udp": shape.expected_for(("tcp", "udp")),
                "managed_rule": shape.managed_rule,
                "results": {},
            }
            for name, run in APPROACHES.items():
                group_id, ids = box.group_with((shape,))
                outcome = run(box.ec2, group_id)
                gone = not (set(ids) & box.ingress_ids(group_id))
                row["results"][name] = dict(outcome, gone=gone, expected=_expected(name, shape))
            table.append(row)
        combined: dict[str, Any] = {}
        for name, run in APPROACHES.items():
            group_id, ids = box.group_with(SHAPES)
            outcome = run(box.ec2, group_id)
            remaining = box.ingress_ids(group_id)
            combined[name] = dict(
                outcome,
                open_left=sum(1 for rid, s in ids.items() if _expected(name, s) == "revoke" and rid in remaining),
                wrongly_revoked=sum(
                    1 for rid, s in ids.items() if _expected(name, s) == "keep" and rid not in remaining
                ),
            )
    return {"probe": probe, "table": table, "combined": combined, "seconds": time.perf_counter() - started}


def _cell(expected: str, result: dict[str, Any]) -> str:
    if result["error"]:
        return "**failed** (run raised)"
    if expected == "revoke":
        verdict = "closed" if result["gone"] else "**left open**"
    else:
        verdict = "**revoked (wrong)**" if result["gone"] else "kept"
    steps = f", {result['failed_steps']} step(s) failed" if result["failed_steps"] else ""
    return f"{verdict} ({result['calls']} calls{steps})"


def render(data: dict[str, Any]) -> str:
    names = list(APPROACHES)
    lines = [
        "# Security group remediation coverage",
        "",
        "Generated by `bench/runbook_coverage.py` against moto (in-process) in a non-default VPC; do not edit by "
        "hand. Restricted ports: " + ", ".join(map(str, RESTRICTED_PORTS)) + ". Each cell: the outcome for a group "
        "holding only that rule, then the API calls the remediation made and how many of its steps failed.",
        "",
        "- *closed*: an internet-open rule reaching a restricted port is gone (correct).",
        "- *kept*: a rule that must survive survived (correct).",
        "- ***left open***: an internet-open rule reaching a restricted port survived (a miss).",
        "- ***revoked (wrong)***: a rule that must survive was removed (an over-revoke).",
        "- ***failed***: the run itself raised.",
        "",
        "AWS-DisablePublicAccessForSecurityGroup is emulated as its four exact-permission `RevokeSecurityGroupIngress` "
        "steps with `onFailure: Continue` (AWS-FACTS.md); its leading `aws:branch` step makes no API call. A failed "
        "step is `InvalidPermission.NotFound`: in a non-default VPC an unmatched permission fails the whole call. "
        "Its newer `aws:executeScript` step revokes 22/3389 rules whose managed prefix list holds only public CIDRs; "
        "it is modelled from that description (its script is not reproduced here): single-port TCP 22 or 3389, "
        "every entry outside the private-use ranges, so a list mixing 10.0.0.0/8 with 0.0.0.0/0 is kept and an "
        "office's public egress ranges are revoked. orgguard's rule: a prefix list is the internet when any entry "
        "is 0.0.0.0/0 or ::/0 (and when its entries cannot be read: fail closed); any other list is kept. "
        f"Probe of moto with one present and one absent permission in one call: {data['probe']}; so the bench "
        "enforces the documented whole-call failure itself (every exact-match revoke is checked first and fails "
        "with nothing revoked if any permission is absent). Steps that fail mark the Automation execution failed "
        "when they are critical (the SSM default), even though the run continues.",
        "",
        "*Expected* is for TCP (the TCP controls restricted-ssh and restricted-common-ports, which leave the "
        "document's RestrictedProtocols at its default `tcp`); *Expected, tcp+udp* for restricted-ports-all-protocols "
        "(RestrictedProtocols `tcp`, `udp`), and the last column runs the same document that way. ICMP and other "
        "protocols are never restricted. *VPC_SG_PORT_RESTRICTION_CHECK* is what AWS's managed rule (protocolType "
        "ALL, ipType ALL) reports for the shape according to its page "
        "(https://docs.aws.amazon.com/config/latest/developerguide/vpc-sg-port-restriction-check.html: "
        "NON_COMPLIANT \"if security groups allow incoming traffic from 0.0.0.0/0 or ::/0 over TCP/UDP ports\" "
        "restricted, ALL covering TCP, UDP and -1 rules); *unconfirmed* where the page says nothing (port ranges, "
        "prefix-list sources), not measured here: moto does not evaluate managed rules.",
        "",
        "| Rule shape | Expected | Expected, tcp+udp | VPC_SG_PORT_RESTRICTION_CHECK | " + " | ".join(names) + " |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for row in data["table"]:
        cells = [_cell(row["results"][n]["expected"], row["results"][n]) for n in names]
        lines.append(
            f"| {row['shape']} | {row['expected']} | {row['expected_udp']} | {row['managed_rule']} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "## All shapes in one group",
        "",
        f"One group holding all {len(SHAPES)} shapes "
        f"({sum(s.expected == 'revoke' for s in SHAPES)} must be closed, {sum(s.expected == 'keep' for s in SHAPES)} "
        "must survive for TCP; "
        f"{sum(s.expected_for(('tcp', 'udp')) == 'revoke' for s in SHAPES)} must be closed for tcp+udp), "
        "remediated once.",
        "",
        "| Approach | API calls | Failed steps | Left open | Wrongly revoked |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        c = data["combined"][name]
        lines.append(f"| {name} | {c['calls']} | {c['failed_steps']} | {c['open_left']} | {c['wrongly_revoked']} |")
    per_shape = {
        n: sorted({row["results"][n]["calls"] for row in data["table"] if row["results"][n]["calls"] is not None})
        for n in names
    }
    lines += [
        "",
        "API calls per remediation of one group: "
        + "; ".join(f"{n}: {', '.join(map(str, v))}" for n, v in per_shape.items())
        + ". orgguard's count is one DescribeSecurityGroups, one DescribeSecurityGroupRules page, one "
        "GetManagedPrefixListEntries page per prefix list that a rule reaching a restricted port names, and at most "
        "one RevokeSecurityGroupIngress (by rule ID); the others make one call per fixed step whatever the group "
        "holds (AWS's prefix-list step: one describe, one read per 22/3389 prefix-list rule, one revoke).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "runbook-coverage.md"), help="Markdown file to write")
    parser.add_argument("--json", action="store_true", help="also print the raw measurements as JSON")
    args = parser.parse_args(argv)
    data = measure()
    Path(args.out).write_text(render(data))
    if args.json:
        print(json.dumps(data, indent=2))
    misses = sum(
        1
        for row in data["table"]
        for n, r in row["results"].items()
        if n.startswith("orgguard") and (r["error"] or r["gone"] != (r["expected"] == "revoke"))
    )
    print(f"wrote {args.out} in {data['seconds']:.1f}s; orgguard misses or over-revokes: {misses}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
