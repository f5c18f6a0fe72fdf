"""Deploy a synthesized organization plan into the sandbox with boto3, the calls terraform's resources make.

The terraform path itself is exercised by the sandbox and demo tests; the verifier tests only need the
same end state quickly: the StackSets (owned by the management account, as AWS stores them), the
organization conformance packs from the deployer account, and the SCP on its targets.
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


def deploy_org(sb: Sandbox, manifest: Manifest, out: Path) -> None:
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
    for pack in manifest.conformance_packs:
        deployer.client("config", region_name=pack.region).put_organization_conformance_pack(
            OrganizationConformancePackName=pack.name,
            TemplateBody=(out / pack.template_file).read_text(),
            ExcludedAccounts=pack.excluded_accounts,
        )
    if manifest.scp is not None:
        org = mgmt.client("organizations")
        policy = org.create_policy(
            Name=manifest.scp.name,
            Description="orgguard",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(manifest.scp.policy),
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
    return sorted(sb.org.accounts)


def client(sb: Sandbox, account: str, service: str, region: str) -> boto3.client:
    return sb.session(account).client(service, region_name=region)
