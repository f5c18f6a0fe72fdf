"""Deploy a synthesized organization plan into the sandbox with boto3, the calls terraform's resources make.

The terraform path itself is exercised by the sandbox and demo tests; the verifier tests only need the
same end state quickly: the StackSets (owned by the management account, as AWS stores them), the
organization conformance packs from the deployer account, and the SCP on its targets.

Like the regional stacks, the packs exclude at apply time every account outside the target OUs (read
from Organizations), besides the configured exclusions: in the landing-zone-shaped sandbox a pack
reaching the Security OU, which holds no runbooks, fails there as it would in AWS.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3

from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox
from orgguard.synth.build import synthesize

ROOT = Path(__file__).resolve().parents[2]


def synth_for(sb: Sandbox, work: Path) -> tuple[Manifest, Path]:
    config = work / "governance.yaml"
    config.write_text(sb.governance_yaml(ROOT / "governance.yaml"))
    out = work / "out"
    return synthesize(config, out), out


def accounts_outside(sb: Sandbox, target_ous: list[str]) -> list[str]:
    """Accounts not under any target OU (at any depth), read like the stacks' data sources do."""
    orgs = sb.session().client("organizations")
    if any(ou.startswith("r-") for ou in target_ous):
        return []
    everyone = {a["Id"] for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]}
    under: set[str] = set()
    frontier = list(target_ous)
    while frontier:
        parent = frontier.pop()
        for page in orgs.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
            under |= {a["Id"] for a in page["Accounts"]}
        for page in orgs.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
            frontier += [ou["Id"] for ou in page["OrganizationalUnits"]]
    return sorted(everyone - under)


def deploy_org(sb: Sandbox, manifest: Manifest, out: Path, *, exclude_outside_target_ous: bool = True) -> None:
    """`exclude_outside_target_ous=False` deploys the packs with the configured exclusions only (the shape
    before issue 8), so they reach accounts without runbooks."""
    mgmt = sb.session()
    for ss in manifest.stack_sets:
        cfn = mgmt.client("cloudformation", region_name=ss.region)
        cfn.create_stack_set(
            StackSetName=ss.name,
            TemplateBody=(out / ss.template_file).read_text(),
            PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        cfn.create_stack_instances(
            StackSetName=ss.name, DeploymentTargets={"OrganizationalUnitIds": ss.target_ous}, Regions=ss.regions
        )
    deployer = sb.session(manifest.organization.deployer_account_id)
    outside = accounts_outside(sb, manifest.organization.target_ous) if exclude_outside_target_ous else []
    for pack in manifest.conformance_packs:
        deployer.client("config", region_name=pack.region).put_organization_conformance_pack(
            OrganizationConformancePackName=pack.name,
            TemplateBody=(out / pack.template_file).read_text(),
            ExcludedAccounts=sorted({*pack.excluded_accounts, *outside}),
        )
    if manifest.scp is not None:
        org = mgmt.client("organizations")
        for part in manifest.scp.policies:  # an SCP too large for 5,120 characters is split into parts
            policy = org.create_policy(
                Name=part.name,
                Description="orgguard",
                Type="SERVICE_CONTROL_POLICY",
                Content=json.dumps(part.policy),
            )["Policy"]["PolicySummary"]["Id"]
            for target in manifest.scp.targets:
                org.attach_policy(PolicyId=policy, TargetId=target)


def use_sandbox_env(sb: Sandbox) -> dict[str, str | None]:
    """Point boto3 in this process at the sandbox; returns the previous values for restore_env."""
    previous = {k: os.environ.get(k) for k in sb.env()}
    os.environ.update(sb.env())
    return previous


def restore_env(previous: dict[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def member_accounts(sb: Sandbox) -> list[str]:
    """The members the plan governs: those under the target OUs (the Security OU is not a target)."""
    return sb.org.target_accounts()


def client(sb: Sandbox, account: str, service: str, region: str) -> boto3.client:
    return sb.session(account).client(service, region_name=region)
