"""Pieces both modes place: a runbook (document + role) and a detection rule with its remediation."""

from __future__ import annotations

import json

from cdktn import TerraformProvider
from constructs import Construct

from orgguard.constructs.config import ConfigConfigRule
from orgguard.constructs.iam import IamRole, IamRolePolicy
from orgguard.manifest import ControlEntry, RoleEntry, for_account
from orgguard.rules import ConfigRule


def policy_json(policy: dict, account_id: str) -> str:
    return json.dumps(for_account(policy, account_id), sort_keys=True)


def place_role(scope: Construct, role: RoleEntry, *, account_id: str, provider: TerraformProvider) -> IamRole:
    iam_role = IamRole(
        scope,
        f"role-{role.name}",
        name=role.name,
        path=role.path,
        description=role.description,
        assume_role_policy=policy_json(role.trust_policy, account_id),
        provider=provider,
    )
    for policy_name, doc in role.permission_policies.items():
        IamRolePolicy(
            scope,
            f"policy-{policy_name}",
            name=policy_name,
            role=iam_role.name_ref,
            policy=policy_json(doc, account_id),
            provider=provider,
        )
    return iam_role


def place_rule(
    scope: Construct, control: ControlEntry, *, account_id: str, region: str, provider: TerraformProvider, depends_on
) -> ConfigConfigRule:
    """The control's rule and remediation as Terraform: the same `ConfigRule` the conformance pack renders."""
    return ConfigRule.from_control(control).terraform(
        scope, account_id=account_id, region=region, provider=provider, depends_on=depends_on
    )
