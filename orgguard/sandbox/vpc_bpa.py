"""VPC Block Public Access and EC2 declarative policies, which moto 5.2.5 lacks (docs/sandbox.md).

- Organizations accepts the policy type `DECLARATIVE_POLICY_EC2` (botocore organizations model, `PolicyType`):
  EnablePolicyType on the root, CreatePolicy, AttachPolicy, ListPolicies(ForTarget), DescribePolicy. As AWS
  does, AttachPolicy of a type not enabled on the root fails with PolicyTypeNotEnabledException (listed for
  AttachPolicy in the same model); moto attached any type.
- EC2 `DescribeVpcBlockPublicAccessOptions` / `ModifyVpcBlockPublicAccessOptions`, query-protocol XML shaped
  like botocore's ec2 model (`VpcBlockPublicAccessOptions`: awsAccountId, awsRegion, state,
  internetGatewayBlockMode, lastUpdateTimestamp, managedBy, exclusionsAllowed). Per account and region; a
  change completes at once (state update-complete).
- The effect of an attached policy: an account under an OU (or root) with an EC2 declarative policy reports
  that policy's mode with managedBy declarative-policy and its exclusionsAllowed, and its
  ModifyVpcBlockPublicAccessOptions is refused ("accounts in scope cannot use ModifyVpcBlockPublicAccessOptions",
  AWS Organizations User Guide, declarative policy syntax, VPC BPA). The error code AWS returns is not
  documented; `OperationNotPermitted` is the sandbox's own choice.
- EC2 `CreateVpcBlockPublicAccessExclusion` / `DescribeVpcBlockPublicAccessExclusions` /
  `DeleteVpcBlockPublicAccessExclusion`, shaped like botocore's ec2 model (`VpcBlockPublicAccessExclusion`:
  exclusionId, internetGatewayExclusionMode allow-bidirectional | allow-egress, resourceArn, state,
  creationTimestamp, lastUpdateTimestamp, deletionTimestamp, tagSet; Describe pages with NextToken and
  MaxResults 5-1000). Exactly one of VpcId / SubnetId, which must exist in that account and region. Create is
  refused where the account's effective declarative policy sets `exclusions_allowed` disabled ("accounts in
  scope cannot use ... CreateVpcBlockPublicAccessExclusion", same User Guide page); that error's code and
  words are the sandbox's own (`OperationNotPermitted`), AWS does not document them. Delete leaves the
  exclusion listed as delete-complete (a state of the model; how long AWS lists it is not documented).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.responses import EC2Response
from moto.organizations.exceptions import PolicyTypeNotEnabledException
from moto.organizations.models import FakePolicy, FakeRoot, OrganizationsBackend, organizations_backends

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

POLICY_TYPE = "DECLARATIVE_POLICY_EC2"
# The ARN's type segment, lower case like moto's (and AWS's) service_control_policy: UNCONFIRMED for this type.
ARN_FORMAT = "arn:{0}:organizations::{1}:policy/{2}/declarative_policy_ec2/{3}"
MODES = ("off", "block-bidirectional", "block-ingress")  # botocore ec2: InternetGatewayBlockMode
_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
_LOCK = threading.Lock()
OPTIONS: dict[tuple[str, str], dict[str, str]] = {}  # (account, region) -> the account's own setting
_CTX: dict[str, ServerContext] = {}
EXCLUSION_MODES = ("allow-bidirectional", "allow-egress")  # botocore ec2: InternetGatewayExclusionMode
EXCLUSIONS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (account, region) -> id -> exclusion


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _org_backend() -> OrganizationsBackend | None:
    ctx = _CTX.get("ctx")
    if ctx is None or ctx.org is None:
        return None
    return organizations_backends[ctx.org.management_account_id]["aws"]


def _ancestry(backend: OrganizationsBackend, account_id: str) -> list[Any]:
    """Root first, then each OU down to the account itself (policies inherit downwards)."""
    account = next((a for a in backend.accounts if a.id == account_id), None)
    if account is None:
        return []
    chain: list[Any] = [account]
    parent = account.parent_id
    while parent:
        node = next((ou for ou in backend.ou if ou.id == parent), None)
        if node is None:
            break
        chain.append(node)
        parent = getattr(node, "parent_id", None) if not isinstance(node, FakeRoot) else None
    return list(reversed(chain))


def effective_policy(account_id: str) -> dict[str, str] | None:
    """The VPC BPA settings the account's declarative policies give it, or None when none sets them.

    Inheritance as the management-policy syntax: a lower policy's @@assign replaces a higher one's unless the
    higher one locked the value (@@operators_allowed_for_child_policies: ["@@none"]). Two policies on one
    node are merged in attachment order (simplified; AWS's own merge order is not documented for one level).
    """
    backend = _org_backend()
    if backend is None:
        return None
    found: dict[str, str] = {}
    locked: set[str] = set()
    for node in _ancestry(backend, account_id):
        for policy in getattr(node, "attached_policies", []):
            if policy.type != POLICY_TYPE:
                continue
            try:
                block = json.loads(policy.content)["ec2_attributes"]["vpc_block_public_access"][
                    "internet_gateway_block"
                ]
            except (KeyError, TypeError, ValueError):
                continue
            for key in ("mode", "exclusions_allowed"):
                value = block.get(key)
                if not isinstance(value, dict) or "@@assign" not in value or key in locked:
                    continue
                found[key] = str(value["@@assign"])
                if value.get("@@operators_allowed_for_child_policies") == ["@@none"]:
                    locked.add(key)
    return found or None


def options(account_id: str, region: str) -> dict[str, str]:
    """What DescribeVpcBlockPublicAccessOptions answers in one account and region."""
    policy = effective_policy(account_id)
    if policy and "mode" in policy:
        out = {
            "awsAccountId": account_id,
            "awsRegion": region,
            "state": "update-complete",
            "internetGatewayBlockMode": policy["mode"].replace("_", "-"),
            "lastUpdateTimestamp": _now(),
            "managedBy": "declarative-policy",
        }
        if "exclusions_allowed" in policy:
            out["exclusionsAllowed"] = "allowed" if policy["exclusions_allowed"] == "enabled" else "not-allowed"
        return out
    with _LOCK:
        own = dict(OPTIONS.get((account_id, region), {}))
    return {
        "awsAccountId": account_id,
        "awsRegion": region,
        "state": own.get("state", "default-state"),
        "internetGatewayBlockMode": own.get("mode", "off"),
        **({"lastUpdateTimestamp": own["updated"]} if "updated" in own else {}),
        "managedBy": "account",
    }


def _xml(action: str, item: dict[str, str]) -> str:
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items())
    return (
        f'<{action}Response xmlns="{_XMLNS}"><requestId>{uuid.uuid4()}</requestId>'
        f"<vpcBlockPublicAccessOptions>{fields}</vpcBlockPublicAccessOptions></{action}Response>"
    )


class _Api:
    def describe_vpc_block_public_access_options(self: Any) -> str:
        return _xml("DescribeVpcBlockPublicAccessOptions", options(self.current_account, self.region))

    def modify_vpc_block_public_access_options(self: Any) -> str:
        mode = self._get_param("InternetGatewayBlockMode")
        if mode not in MODES:
            raise EC2ClientError(
                "InvalidParameterValue", f"InternetGatewayBlockMode {mode!r} is not one of {', '.join(MODES)}"
            )
        account, region = self.current_account, self.region
        if (effective_policy(account) or {}).get("mode"):
            raise EC2ClientError(
                "OperationNotPermitted",
                "VPC Block Public Access is managed by a declarative policy and can't be modified by the account.",
            )
        with _LOCK:
            OPTIONS[(account, region)] = {"mode": mode, "state": "update-complete", "updated": _now()}
        return _xml("ModifyVpcBlockPublicAccessOptions", options(account, region))


def _exclusion_xml(item: dict[str, Any]) -> str:
    fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in item.items() if k != "tags" and v is not None)
    tags = "".join(
        f"<item><key>{escape(t['Key'])}</key><value>{escape(t.get('Value', ''))}</value></item>"
        for t in item.get("tags", [])
    )
    return f"{fields}<tagSet>{tags}</tagSet>"


def _one_exclusion_xml(action: str, item: dict[str, Any]) -> str:
    return (
        f'<{action}Response xmlns="{_XMLNS}"><requestId>{uuid.uuid4()}</requestId>'
        f"<vpcBlockPublicAccessExclusion>{_exclusion_xml(item)}</vpcBlockPublicAccessExclusion></{action}Response>"
    )


def _list_param(api: Any, plural: str, singular: str) -> list[Any]:
    value = api._get_param(plural) or api._get_param(singular) or []
    return value if isinstance(value, list) else [value]


class _Exclusions:
    def create_vpc_block_public_access_exclusion(self: Any) -> str:
        mode = self._get_param("InternetGatewayExclusionMode")
        vpc_id, subnet_id = self._get_param("VpcId"), self._get_param("SubnetId")
        if mode not in EXCLUSION_MODES:
            raise EC2ClientError(
                "InvalidParameterValue",
                f"InternetGatewayExclusionMode {mode!r} is not one of {', '.join(EXCLUSION_MODES)}",
            )
        if bool(vpc_id) == bool(subnet_id):
            raise EC2ClientError("InvalidParameterCombination", "Specify exactly one of VpcId and SubnetId.")
        account, region = self.current_account, self.region
        if (effective_policy(account) or {}).get("exclusions_allowed") == "disabled":
            raise EC2ClientError(
                "OperationNotPermitted",
                "VPC Block Public Access exclusions are not allowed by a declarative policy for this account.",
            )
        if vpc_id:
            self.ec2_backend.get_vpc(vpc_id)  # InvalidVpcID.NotFound, as moto answers for a missing VPC
            resource = f"arn:aws:ec2:{region}:{account}:vpc/{vpc_id}"
        else:
            self.ec2_backend.get_subnet(subnet_id)
            resource = f"arn:aws:ec2:{region}:{account}:subnet/{subnet_id}"
        tags = [
            t
            for spec in _list_param(self, "TagSpecifications", "TagSpecification")
            if isinstance(spec, dict)
            for t in (spec.get("Tags") or spec.get("Tag") or [])
        ]
        now = _now()
        item: dict[str, Any] = {
            "exclusionId": f"exclusion-{uuid.uuid4().hex[:17]}",
            "internetGatewayExclusionMode": mode,
            "resourceArn": resource,
            "state": "create-complete",
            "creationTimestamp": now,
            "lastUpdateTimestamp": now,
            "tags": tags,
        }
        with _LOCK:
            EXCLUSIONS.setdefault((account, region), {})[item["exclusionId"]] = item
        return _one_exclusion_xml("CreateVpcBlockPublicAccessExclusion", item)

    def describe_vpc_block_public_access_exclusions(self: Any) -> str:
        if self._get_param("Filters") or self._get_param("Filter"):
            raise EC2ClientError("InvalidParameterValue", "the sandbox does not emulate Filters here")
        wanted = set(_list_param(self, "ExclusionIds", "ExclusionId"))
        size = int(self._get_param("MaxResults") or 1000)
        if not 5 <= size <= 1000:
            raise EC2ClientError("InvalidParameterValue", "MaxResults must be between 5 and 1000")
        with _LOCK:
            items = sorted(
                (dict(e) for e in EXCLUSIONS.get((self.current_account, self.region), {}).values()),
                key=lambda e: (e["creationTimestamp"], e["exclusionId"]),
            )
        if wanted:
            items = [e for e in items if e["exclusionId"] in wanted]
        start = int(self._get_param("NextToken") or 0)
        page, more = items[start : start + size], start + size < len(items)
        body = "".join(f"<item>{_exclusion_xml(e)}</item>" for e in page)
        token = f"<nextToken>{start + size}</nextToken>" if more else ""
        return (
            f'<DescribeVpcBlockPublicAccessExclusionsResponse xmlns="{_XMLNS}"><requestId>{uuid.uuid4()}</requestId>'
            f"<vpcBlockPublicAccessExclusionSet>{body}</vpcBlockPublicAccessExclusionSet>{token}"
            "</DescribeVpcBlockPublicAccessExclusionsResponse>"
        )

    def delete_vpc_block_public_access_exclusion(self: Any) -> str:
        exclusion_id = self._get_param("ExclusionId")
        with _LOCK:
            item = EXCLUSIONS.get((self.current_account, self.region), {}).get(exclusion_id)
            if item is None or item["state"] == "delete-complete":
                raise EC2ClientError(
                    "InvalidVpcBlockPublicAccessExclusionId.NotFound", f"The exclusion {exclusion_id} does not exist"
                )
            item.update(state="delete-complete", lastUpdateTimestamp=_now(), deletionTimestamp=_now())
            item = dict(item)
        return _one_exclusion_xml("DeleteVpcBlockPublicAccessExclusion", item)


def _policy_init(original: Callable[..., None]) -> Callable[..., None]:
    """moto builds a policy's ARN per type and refuses the others: build this type's ARN too."""

    def init(self: Any, organization: Any, **kwargs: Any) -> None:
        if kwargs.get("Type") != POLICY_TYPE:
            original(self, organization, **kwargs)
            return
        original(self, organization, **{**kwargs, "Type": "TAG_POLICY"})
        self.type = POLICY_TYPE
        self._arn_format = ARN_FORMAT

    init.orgguard_patched = True  # type: ignore[attr-defined]
    return init


def _checked_attach(original: Callable[..., None]) -> Callable[..., None]:
    def attach_policy(self: Any, **kwargs: Any) -> None:
        policy = self.get_policy_by_id(kwargs["PolicyId"])
        if policy.type == POLICY_TYPE:
            types = [t for ou in self.ou if isinstance(ou, FakeRoot) for t in ou.policy_types]
            if not any(t.get("Type") == POLICY_TYPE and t.get("Status") == "ENABLED" for t in types):
                raise PolicyTypeNotEnabledException()
        original(self, **kwargs)

    attach_policy.orgguard_patched = True  # type: ignore[attr-defined]
    return attach_policy


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    for types in (FakeRoot.SUPPORTED_POLICY_TYPES, FakePolicy.SUPPORTED_POLICY_TYPES):
        if POLICY_TYPE not in types:
            types.append(POLICY_TYPE)
    if not getattr(FakePolicy.__init__, "orgguard_patched", False):
        FakePolicy.__init__ = _policy_init(FakePolicy.__init__)  # type: ignore[method-assign]
    if not getattr(OrganizationsBackend.attach_policy, "orgguard_patched", False):
        OrganizationsBackend.attach_policy = _checked_attach(OrganizationsBackend.attach_policy)  # type: ignore[method-assign]
    for name in ("describe_vpc_block_public_access_options", "modify_vpc_block_public_access_options"):
        setattr(EC2Response, name, getattr(_Api, name))
    for name in (
        "create_vpc_block_public_access_exclusion",
        "describe_vpc_block_public_access_exclusions",
        "delete_vpc_block_public_access_exclusion",
    ):
        setattr(EC2Response, name, getattr(_Exclusions, name))
