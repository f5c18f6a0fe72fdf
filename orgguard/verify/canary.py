"""The active canary: prove in one account and region that remediation closes what it must and only that.

It builds a throwaway VPC with a security group holding internet-open shapes (must be revoked) and
shapes that must survive, plus a group tagged exempt but not approved (a tag alone must not exempt it),
runs the remediation (starting the automation, or waiting for Config's automatic remediation), compares
the end state, and always deletes what it created.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
from botocore.exceptions import ClientError

from orgguard.manifest import ControlEntry, Manifest, for_account
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER, PROTOCOLS_PARAMETER
from orgguard.verify.aws import CallCounter, SessionPool
from orgguard.verify.errors import describe

SG_TYPE = "AWS::EC2::SecurityGroup"
TERMINAL = {"Success", "Failed", "TimedOut", "Cancelled", "CompletedWithSuccess", "CompletedWithFailure"}
CANARY_TAG = "orgguard:canary"
POLL_SECONDS = 1.0
CONFIG_POLL_SECONDS = 10.0


@dataclass(frozen=True)
class Shape:
    """One ingress rule the canary creates, and whether remediation must remove it."""

    name: str
    permission: dict[str, Any]
    must_revoke: bool
    exempt_group: bool = False


@dataclass(frozen=True)
class ShapeOutcome:
    shape: str
    expected: Literal["revoked", "kept"]
    observed: Literal["revoked", "kept", "unknown"]

    @property
    def ok(self) -> bool:
        return self.expected == self.observed


@dataclass
class CanaryResult:
    account_id: str
    region: str
    wait: str
    outcomes: list[ShapeOutcome] = field(default_factory=list)
    executions: list[tuple[str, str, str]] = field(default_factory=list)  # (document, execution id, status)
    error: str = ""
    cleanup_errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and not self.error and not self.cleanup_errors and all(o.ok for o in self.outcomes)

    def render(self) -> str:
        lines = [f"canary in {self.account_id} {self.region} (wait: {self.wait})"]
        for doc, exec_id, status in self.executions:
            lines.append(f"  automation {doc} {exec_id}: {status}")
        for o in self.outcomes:
            mark = "ok  " if o.ok else "FAIL"
            lines.append(f"  {mark} {o.shape}: expected {o.expected}, observed {o.observed}")
        if self.error:
            lines.append(f"  error: {self.error}")
        for problem in self.cleanup_errors:
            lines.append(f"  cleanup failed: {problem}")
        if not self.cleanup_errors:
            lines.append("  cleanup: everything the canary created was deleted")
        lines.append("PASSED" if self.passed else "FAILED")
        return "\n".join(lines) + "\n"


def _sg_controls(manifest: Manifest) -> list[ControlEntry]:
    return [
        c
        for c in manifest.enabled_controls()
        if SG_TYPE in c.rule.resource_types and c.remediation.mode != "off" and c.remediation.document
    ]


def restricted_ports(manifest: Manifest) -> list[int]:
    """The ports the deployed remediations revoke (the SG revoke runbook's ports parameter), else 22."""
    ports: set[int] = set()
    for control in _sg_controls(manifest):
        param = control.remediation.parameters.get(PORTS_PARAMETER)
        for value in (param.static_values or []) if param else []:
            ports.update(int(p) for p in str(value).replace(",", " ").split() if p.strip().isdigit())
    return sorted(ports) or [22]


def udp_restricted_ports(manifest: Manifest) -> list[int]:
    """The ports a deployed remediation also revokes over UDP (RestrictedProtocols lists udp: the
    restricted-ports-all-protocols control); the TCP controls leave it out, so none."""
    ports: set[int] = set()
    for control in _sg_controls(manifest):
        protocols = control.remediation.parameters.get(PROTOCOLS_PARAMETER)
        if "udp" not in ((protocols.static_values or []) if protocols else []):
            continue
        param = control.remediation.parameters.get(PORTS_PARAMETER)
        for value in (param.static_values or []) if param else []:
            ports.update(int(p) for p in str(value).replace(",", " ").split() if p.strip().isdigit())
    return sorted(ports)


def _perm(proto: str, low: int | None, high: int | None, **source: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"IpProtocol": proto}
    if low is not None:
        out.update(FromPort=low, ToPort=high)
    if "cidr" in source:
        out["IpRanges"] = [{"CidrIp": source["cidr"], "Description": "orgguard canary"}]
    if "cidr6" in source:
        out["Ipv6Ranges"] = [{"CidrIpv6": source["cidr6"], "Description": "orgguard canary"}]
    return out


def shapes(ports: list[int], udp_ports: list[int] | tuple[int, ...] = (), udp_revoked: bool = False) -> list[Shape]:
    """Open shapes (single port, IPv6, range, all-TCP, all-traffic) and survivors (private, UDP, safe port).

    The UDP shape survives unless a deployed remediation restricts UDP on its port (`udp_ports`). Then, when
    the canary runs the remediations itself (`udp_revoked`), it must be revoked; when it waits for Config, it
    is left out: the rule that flags UDP is periodic, so whether it ran within the wait is not decided."""
    p = 22 if 22 in ports else ports[0]
    safe = next(q for q in (443, 8443, 9443, 10443, 20443) if q not in ports)
    others = [Shape(f"tcp {q} from 0.0.0.0/0", _perm("tcp", q, q, cidr="0.0.0.0/0"), True) for q in ports if q != p]
    udp = [Shape(f"udp {p} from 0.0.0.0/0", _perm("udp", p, p, cidr="0.0.0.0/0"), p in udp_ports)]
    if p in udp_ports and not udp_revoked:
        udp = []
    return [
        *others[:2],
        Shape(f"tcp {p} from 0.0.0.0/0", _perm("tcp", p, p, cidr="0.0.0.0/0"), True),
        Shape(f"tcp {p} from ::/0", _perm("tcp", p, p, cidr6="::/0"), True),
        Shape(f"tcp {p - 1}-{p + 1} from 0.0.0.0/0", _perm("tcp", p - 1, p + 1, cidr="0.0.0.0/0"), True),
        Shape("all TCP from ::/0", _perm("tcp", 0, 65535, cidr6="::/0"), True),
        Shape("all traffic from 0.0.0.0/0", _perm("-1", None, None, cidr="0.0.0.0/0"), True),
        Shape(f"tcp {p} from 10.0.0.0/8", _perm("tcp", p, p, cidr="10.0.0.0/8"), False),
        *udp,
        Shape(f"tcp {safe} from 0.0.0.0/0", _perm("tcp", safe, safe, cidr="0.0.0.0/0"), False),
        # A tag alone never exempts (only exemptions.known, embedded in the document, does): revoked.
        Shape(
            f"tcp {p} from 0.0.0.0/0 on a group tagged exempt, not approved",
            _perm("tcp", p, p, cidr="0.0.0.0/0"),
            True,
            True,
        ),
    ]


def _signature(rule: dict[str, Any]) -> tuple[Any, ...]:
    return (
        str(rule.get("IpProtocol")),
        rule.get("FromPort", -1) if rule.get("IpProtocol") != "-1" else -1,
        rule.get("ToPort", -1) if rule.get("IpProtocol") != "-1" else -1,
        rule.get("CidrIpv4"),
        rule.get("CidrIpv6"),
    )


def _perm_signature(perm: dict[str, Any]) -> tuple[Any, ...]:
    all_traffic = perm["IpProtocol"] == "-1"
    return (
        perm["IpProtocol"],
        -1 if all_traffic else perm["FromPort"],
        -1 if all_traffic else perm["ToPort"],
        (perm.get("IpRanges") or [{}])[0].get("CidrIp"),
        (perm.get("Ipv6Ranges") or [{}])[0].get("CidrIpv6"),
    )


class _Canary:
    def __init__(self, manifest: Manifest, ec2: Any, ssm: Any, account_id: str, result: CanaryResult) -> None:
        self.manifest, self.ec2, self.ssm, self.account_id, self.result = manifest, ec2, ssm, account_id, result
        self.vpc_id: str | None = None
        self.groups: dict[bool, str] = {}  # exempt? -> group id
        self.run_id = uuid.uuid4().hex[:8]

    def build(self, all_shapes: list[Shape]) -> None:
        tags = [{"Key": CANARY_TAG, "Value": self.run_id}]
        vpc = self.ec2.create_vpc(CidrBlock="10.213.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])
        self.vpc_id = vpc["Vpc"]["VpcId"]
        expires = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        exemption = f"owner=canary@orgguard.invalid;reason=orgguard canary exempt group;expires={expires}"
        for exempt in (False, True):
            group_tags = [*tags, {"Key": self.manifest.exemption_tag_key, "Value": exemption}] if exempt else tags
            group = self.ec2.create_security_group(
                GroupName=f"orgguard-canary-{self.run_id}{'-exempt' if exempt else ''}",
                Description="orgguard canary: internet-open shapes that remediation must revoke",
                VpcId=self.vpc_id,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": group_tags}],
            )
            self.groups[exempt] = group["GroupId"]
        for shape in all_shapes:
            self.ec2.authorize_security_group_ingress(
                GroupId=self.groups[shape.exempt_group], IpPermissions=[shape.permission]
            )

    def observe(self, all_shapes: list[Shape]) -> list[ShapeOutcome]:
        present: dict[bool, set[tuple[Any, ...]]] = {}
        for exempt, group_id in self.groups.items():
            rules = [
                r
                for page in self.ec2.get_paginator("describe_security_group_rules").paginate(
                    Filters=[{"Name": "group-id", "Values": [group_id]}]
                )
                for r in page["SecurityGroupRules"]
                if not r.get("IsEgress")
            ]
            present[exempt] = {_signature(r) for r in rules}
        return [
            ShapeOutcome(
                s.name,
                "revoked" if s.must_revoke else "kept",
                "kept" if _perm_signature(s.permission) in present[s.exempt_group] else "revoked",
            )
            for s in all_shapes
        ]

    def run_automations(self, deadline: float) -> None:
        for control in _sg_controls(self.manifest):
            spec = control.remediation
            for group_id in self.groups.values():
                params: dict[str, list[str]] = {}
                for name, p in spec.parameters.items():
                    params[name] = (
                        [group_id] if p.resource_value else for_account(list(p.static_values or []), self.account_id)
                    )
                kwargs: dict[str, Any] = {"DocumentName": spec.document, "Parameters": params}
                if spec.target_version:
                    kwargs["DocumentVersion"] = spec.target_version
                exec_id = self.ssm.start_automation_execution(**kwargs)["AutomationExecutionId"]
                status = self._wait_execution(exec_id, deadline)
                self.result.executions.append((str(spec.document), exec_id, status))

    def _wait_execution(self, exec_id: str, deadline: float) -> str:
        while True:
            execution = self.ssm.get_automation_execution(AutomationExecutionId=exec_id)["AutomationExecution"]
            status = str(execution.get("AutomationExecutionStatus"))
            if status in TERMINAL:
                return status
            if time.monotonic() > deadline:
                return f"{status} (gave up waiting at the timeout)"
            time.sleep(POLL_SECONDS)

    def wait_for_config(self, all_shapes: list[Shape], deadline: float) -> None:
        while True:
            if all(o.ok for o in self.observe(all_shapes)) or time.monotonic() > deadline:
                return
            time.sleep(CONFIG_POLL_SECONDS)

    def cleanup(self) -> list[str]:
        problems: list[str] = []
        for group_id in self.groups.values():
            problems += _attempt(
                lambda g=group_id: self.ec2.delete_security_group(GroupId=g), f"security group {group_id}"
            )
        if self.vpc_id:
            problems += _attempt(lambda: self.ec2.delete_vpc(VpcId=self.vpc_id), f"VPC {self.vpc_id}")
        return problems


def _attempt(fn: Callable[[], Any], what: str) -> list[str]:
    try:
        fn()
    except ClientError as exc:
        if "NotFound" in str(exc.response.get("Error", {}).get("Code", "")):
            return []
        return [f"{what}: {describe(exc)}"]
    return []


def run_canary(
    manifest: Manifest,
    *,
    session: boto3.Session,
    account_id: str,
    region: str,
    member_role_name: str = "OrganizationAccountAccessRole",
    external_id: str | None = None,
    wait: Literal["automation", "config"] = "automation",
    timeout: int = 600,
) -> CanaryResult:
    """Build, remediate, observe, and always clean up (also on failure or Ctrl-C)."""
    result = CanaryResult(account_id, region, wait)
    if not _sg_controls(manifest):
        result.error = "no enabled security-group control with remediation in the manifest: nothing to prove"
        return result
    pool = SessionPool(session, role_name=member_role_name, external_id=external_id, counter=CallCounter(), workers=2)
    try:
        ec2 = pool.client(account_id, "ec2", region)
        ssm = pool.client(account_id, "ssm", region)
    except Exception as exc:
        result.error = f"cannot reach {account_id} in {region}: {describe(exc)}"
        return result
    canary = _Canary(manifest, ec2, ssm, account_id, result)
    all_shapes = shapes(restricted_ports(manifest), udp_restricted_ports(manifest), udp_revoked=wait == "automation")
    deadline = time.monotonic() + timeout
    try:
        canary.build(all_shapes)
        if wait == "automation":
            canary.run_automations(deadline)
        else:
            canary.wait_for_config(all_shapes, deadline)
        result.outcomes = canary.observe(all_shapes)
        bad = [e for e in result.executions if e[2] not in {"Success", "CompletedWithSuccess"}]
        if bad:
            result.error = "automation did not succeed: " + ", ".join(f"{d} {i} {s}" for d, i, s in bad)
    except Exception as exc:
        result.error = describe(exc)
    finally:
        result.cleanup_errors = canary.cleanup()
    return result
