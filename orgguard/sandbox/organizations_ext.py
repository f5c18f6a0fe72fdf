"""Organizations: accept the StackSets delegated-administrator principal, as AWS does.

moto 5.2.5 knows ``member.org.stacksets.cloudformation.amazonaws.com`` as a trusted service but
refuses to register a delegated administrator for it; the deployer account of the loop needs both.
The delegated administrator also manages organization policies (the SCP), as AWS allows once the
management account delegates policy management; moto would look for an organization of its own.

A service control policy longer than 5,120 characters is refused by CreatePolicy and UpdatePolicy
with ConstraintViolationException, Reason POLICY_CONTENT_LIMIT_EXCEEDED, as AWS does (Organizations
quotas page; the Reason enum in botocore's organizations model). moto stored any size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.organizations.exceptions import ConstraintViolationException
from moto.organizations.models import (
    FakeDelegatedAdministrator,
    FakeServiceAccess,
    OrganizationsBackend,
    organizations_backends,
)
from moto.organizations.responses import OrganizationsResponse

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

DELEGATABLE = ("member.org.stacksets.cloudformation.amazonaws.com",)
TRUSTABLE = ("controltower.amazonaws.com", "member.org.stacksets.cloudformation.amazonaws.com")


# "Maximum size of a policy document: Service control policies: 5,120 characters"; the API saves the
# content exactly as given, white space included (AWS Organizations quotas page).
POLICY_CONTENT_LIMITS = {"SERVICE_CONTROL_POLICY": 5120, "RESOURCE_CONTROL_POLICY": 5120}

_CTX: dict[str, ServerContext] = {}


class PolicyTooLarge(ConstraintViolationException):
    """ConstraintViolationException carrying the Reason member botocore's model defines."""

    def __init__(self, policy_type: str, size: int, limit: int) -> None:
        super().__init__(
            f"You have exceeded the maximum policy size: the {policy_type} content is {size} characters, "
            f"the limit is {limit}."
        )
        self.Reason = self.reason = "POLICY_CONTENT_LIMIT_EXCEEDED"


def _check_size(policy_type: str, content: Any) -> None:
    limit = POLICY_CONTENT_LIMITS.get(policy_type)
    if limit is not None and isinstance(content, str) and len(content) > limit:
        raise PolicyTooLarge(policy_type, len(content), limit)


def _sized_create(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_policy(self: Any, **kwargs: Any) -> Any:
        _check_size(kwargs.get("Type", ""), kwargs.get("Content"))
        return original(self, **kwargs)

    create_policy.orgguard_patched = True  # type: ignore[attr-defined]
    return create_policy


def _sized_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_policy(self: Any, **kwargs: Any) -> Any:
        if kwargs.get("Content") is not None:
            _check_size(self.get_policy_by_id(kwargs["PolicyId"]).type, kwargs["Content"])
        return original(self, **kwargs)

    update_policy.orgguard_patched = True  # type: ignore[attr-defined]
    return update_policy


def _backend(self: Any) -> OrganizationsBackend:
    """The management account's backend for the delegated administrator, else the caller's own."""
    ctx = _CTX.get("ctx")
    if ctx is not None and ctx.org is not None and self.current_account == ctx.org.delegated_admin_account_id:
        return organizations_backends[ctx.org.management_account_id][self.partition]
    return organizations_backends[self.current_account][self.partition]


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    OrganizationsResponse.organizations_backend = property(_backend)  # type: ignore[assignment,method-assign]
    if not getattr(OrganizationsBackend.create_policy, "orgguard_patched", False):
        OrganizationsBackend.create_policy = _sized_create(OrganizationsBackend.create_policy)  # type: ignore[method-assign]
        OrganizationsBackend.update_policy = _sized_update(OrganizationsBackend.update_policy)  # type: ignore[method-assign]
    for principal in DELEGATABLE:
        if principal not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(principal)
    for principal in TRUSTABLE:
        if principal not in FakeServiceAccess.TRUSTED_SERVICES:
            FakeServiceAccess.TRUSTED_SERVICES.append(principal)
