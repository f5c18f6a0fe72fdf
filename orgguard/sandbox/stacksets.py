"""Service-managed StackSets called by the delegated administrator (``CallAs=DELEGATED_ADMIN``).

moto 5.2.5 resolves a StackSet's target OUs in the caller's own Organizations backend, which is
empty for a delegated administrator, so its instances reached no account. Resolve them in the
organization's management account instead, as AWS does. Also: an ``AWS::IAM::Role``'s inline
``Policies`` and an ``AWS::SSM::Document``'s object ``Content`` came back as Python reprs;
store them as JSON (CloudFormation serializes a Json-typed property before calling the service).
The management account also sees the StackSets its delegated administrator created, as in AWS.

Service-managed instances go where AWS puts them: every active account in the target OUs and all
their descendant OUs (moto looked one level down only), and never the management account, "even if
the organization management account is in your organization or in an OU in your organization"
(DeploymentTargets, CloudFormation API reference) - so targeting the root does not reach it either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.cloudformation.exceptions import StackSetNotFoundException
from moto.cloudformation.models import CloudFormationBackend, StackInstances, cloudformation_backends
from moto.iam.models import Role
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.ssm.models import SimpleSystemManagerBackend

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

_CTX: dict[str, ServerContext] = {}


def _org_backend(self: Any) -> OrganizationsBackend:
    own = organizations_backends[self.account_id][self.partition]
    ctx = _CTX.get("ctx")
    if own.org is not None or ctx is None or ctx.org is None:
        return own
    return organizations_backends[ctx.org.management_account_id][self.partition]


def _descendant_ous(backend: OrganizationsBackend, roots: list[str]) -> set[str]:
    """The given OU/root ids and every OU below them, at any depth."""
    found, frontier = set(roots), list(roots)
    while frontier:
        parent = frontier.pop()
        for ou in backend.ou:
            if ou.parent_id == parent and ou.id not in found:
                found.add(ou.id)
                frontier.append(ou.id)
    return found


def _service_managed_targets(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_instances(
        self: Any,
        accounts: list[str],
        regions: list[str],
        parameters: Any,
        deployment_targets: dict[str, Any],
        permission_model: str,
    ) -> Any:
        if permission_model != "SERVICE_MANAGED":
            return original(self, accounts, regions, parameters, deployment_targets, permission_model)
        backend = self.org_backend
        mgmt = backend.org.master_account_id if backend.org is not None else None
        under = _descendant_ous(backend, list(deployment_targets.get("OrganizationalUnitIds") or []))
        reached = [a.id for a in backend.accounts if a.parent_id in under and a.status == "ACTIVE"]
        targets = [a for a in dict.fromkeys([*accounts, *reached]) if a != mgmt]
        return original(self, targets, regions, parameters, {}, permission_model)

    create_instances.orgguard_patched = True  # type: ignore[attr-defined]
    return create_instances


def _json_put_policy(original: Callable[..., None]) -> Callable[..., None]:
    def put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
        original(self, policy_name, policy_json if isinstance(policy_json, str) else json.dumps(policy_json))

    put_policy.orgguard_patched = True  # type: ignore[attr-defined]
    return put_policy


def _json_document_content(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_document(self: Any, content: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, content if isinstance(content, str) else json.dumps(content), *args, **kwargs)

    create_document.orgguard_patched = True  # type: ignore[attr-defined]
    return create_document


def _management_sees_delegated(original: Callable[..., Any]) -> Callable[..., Any]:
    """The management account sees (CallAs=SELF) the service-managed StackSets its delegated
    administrator created, as in AWS; moto keeps them only in the delegated admin's backend."""

    def describe_stack_set(self: Any, name: str) -> Any:
        try:
            return original(self, name)
        except StackSetNotFoundException:
            ctx = _CTX.get("ctx")
            org = ctx.org if ctx else None
            if org is None or self.account_id != org.management_account_id or not org.delegated_admin_account_id:
                raise
            return original(cloudformation_backends[org.delegated_admin_account_id][self.region_name], name)

    describe_stack_set.orgguard_patched = True  # type: ignore[attr-defined]
    return describe_stack_set


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    if not getattr(Role.put_policy, "orgguard_patched", False):
        Role.put_policy = _json_put_policy(Role.put_policy)  # type: ignore[method-assign]
    backend = SimpleSystemManagerBackend
    if not getattr(backend.create_document, "orgguard_patched", False):
        backend.create_document = _json_document_content(backend.create_document)  # type: ignore[method-assign]
    if not getattr(CloudFormationBackend.describe_stack_set, "orgguard_patched", False):
        CloudFormationBackend.describe_stack_set = _management_sees_delegated(  # type: ignore[method-assign]
            CloudFormationBackend.describe_stack_set
        )
    StackInstances.org_backend = property(_org_backend)  # type: ignore[assignment,method-assign]
    if not getattr(StackInstances.create_instances, "orgguard_patched", False):
        StackInstances.create_instances = _service_managed_targets(  # type: ignore[method-assign]
            StackInstances.create_instances
        )
