"""The account-mode layout before the shared modules: every resource of every region in the account's stack.

Kept so the upgrade path is tested against what users really applied: `LegacyAccountStack` is the class of
stacks/account.py as committed before the modules (d68a75d .. 1c9258c), line for line but for its name;
test_account_mode.py checks that against git history. It runs on today's plan and constructs, so an
upgrade test sees the layout change and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from cdktn import App, LocalBackend, TerraformStack
from constructs import Construct

from orgguard.constructs.provider import AssumeRole, AwsProvider
from orgguard.constructs.ssm import SsmDocument
from orgguard.manifest import Manifest
from orgguard.stacks.common import place_role, place_rule
from orgguard.stacks.fast_path import place_fast_path
from orgguard.stacks.organization import default_tags
from orgguard.synth import build
from orgguard.synth.plan import Plan

LAST_COMMIT = "1c9258c"  # the last commit whose stacks/account.py is this layout


# --- verbatim from stacks/account.py at LAST_COMMIT (class renamed) ---------------------------------
class LegacyAccountStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str, *, plan: Plan, account_id: str) -> None:
        super().__init__(scope, id_)
        LocalBackend(self, path="terraform.tfstate")  # replace with your remote backend (docs/operators.md)
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
# --- end of the verbatim part ------------------------------------------------------------------------


def legacy_build_app(plan: Plan, outdir: Path, **_: object) -> App:
    app = App(outdir=str(outdir), skip_validation=False)
    for stack in plan.manifest.stacks:
        LegacyAccountStack(app, stack.name, plan=plan, account_id=stack.account_id or "")
    return app


def synthesize_legacy(config: Path, out: Path) -> Manifest:
    """`orgguard synth` of an account-mode file as the old layout wrote it (same plan, same manifest)."""
    with mock.patch.object(build, "build_app", legacy_build_app):
        return build.synthesize(config, out)
