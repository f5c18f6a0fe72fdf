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
