"""Organizations: accept the StackSets delegated-administrator principal, as AWS does.

moto 5.2.5 knows ``member.org.stacksets.cloudformation.amazonaws.com`` as a trusted service but
refuses to register a delegated administrator for it; the deployer account of the loop needs both.
The delegated administrator also manages organization policies (the SCP), as AWS allows once the
management account delegates policy management; moto would look for an organization of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


_CTX: dict[str, ServerContext] = {}


def _backend(self: Any) -> OrganizationsBackend:
    """The management account's backend for the delegated administrator, else the caller's own."""
    ctx = _CTX.get("ctx")
    if ctx is not None and ctx.org is not None and self.current_account == ctx.org.delegated_admin_account_id:
        return organizations_backends[ctx.org.management_account_id][self.partition]
    return organizations_backends[self.current_account][self.partition]


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    OrganizationsResponse.organizations_backend = property(_backend)  # type: ignore[assignment,method-assign]
    for principal in DELEGATABLE:
        if principal not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(principal)
    for principal in TRUSTABLE:
        if principal not in FakeServiceAccess.TRUSTED_SERVICES:
            FakeServiceAccess.TRUSTED_SERVICES.append(principal)
