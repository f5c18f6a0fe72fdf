"""Account mode (account vending): everything one account needs, in one stack, every region."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from modules.provider import AssumeRole, AwsProvider
from modules.ssm import SsmDocument
from orgguard.synth.plan import Plan
from stacks.backend import place_backend
from stacks.common import place_role, place_rule
from stacks.fast_path import place_fast_path
from stacks.organization import default_tags


class AccountStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str, *, plan: Plan, account_id: str) -> None:
        super().__init__(scope, id_)
        place_backend(self, plan)  # the plan's state backend for this stack (docs/operators.md, "State")
        m = plan.manifest
        gov = plan.governance
        org = m.organization
        providers = {
            region: AwsProvider(
                self,
                f"aws-{region}",
                region=region,
                alias=region.replace("-", "_"),
                allowed_account_ids=[account_id],
                assume_role=AssumeRole(
                    role_arn=f"arn:aws:iam::{account_id}:role/{gov.account_execution_role}",
                    session_name="orgguard",
                ),
                default_tags=default_tags(plan),
            )
            for region in org.regions
        }
        home = providers[org.home_region]
        roles = {r.name: place_role(self, r, account_id=account_id, provider=home) for r in m.roles}
        for region, provider in providers.items():
            documents = {
                d.entry.name: SsmDocument(
                    self,
                    f"document-{d.entry.name}-{region}",
                    name=d.entry.name,
                    content=d.content,
                    document_type="Automation",
                    document_format="JSON",
                    provider=provider,
                )
                for d in plan.documents
            }
            for control in m.enabled_controls():
                needs = []
                if control.remediation.mode != "off" and control.remediation.document:
                    needs = [documents[control.remediation.document], roles[control.remediation.role or ""]]
                place_rule(self, control, account_id=account_id, region=region, provider=provider, depends_on=needs)
            if m.fast_path:
                place_fast_path(
                    self,
                    plan,
                    account_id=account_id,
                    region=region,
                    provider=provider,
                    depends_on=[*documents.values(), *roles.values()],
                )
