"""Least-privilege IAM for the verifier and the canary: exactly the calls this package makes.

``docs/verifier.md`` prints these policies and the tests lint them with parliament, so the documented
policy and the code cannot drift apart. The verifier reads only; the canary's role is a separate,
write-capable policy that you attach only where you run the canary.
"""

from __future__ import annotations

from typing import Any

from orgguard.layers.notifications import verify as notifications
from orgguard.layers.vpc_block_public_access import verify as vpc_bpa
from orgguard.manifest import Manifest
from orgguard.naming import Names

VERSION = "2012-10-17"
VERIFIER_ROLE = "orgguard-verifier"
MEMBER_READ_ROLE = "orgguard-verifier-read"


def _stmt(
    sid: str, actions: list[str], resources: list[str], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        out["Condition"] = condition
    return out


def caller_policy(manifest: Manifest, *, member_role_name: str = MEMBER_READ_ROLE) -> dict[str, Any]:
    """For the verifier's own role in the management or delegated-admin account."""
    org = manifest.organization
    mgmt, deployer, prefix = org.management_account_id, org.deployer_account_id, manifest.name_prefix
    statements = [
        _stmt("AssumeTheReadRoleInMembers", ["sts:AssumeRole"], [f"arn:aws:iam::*:role/{member_role_name}"]),
        _stmt(
            "WalkTargetOus",
            ["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"],
            [f"arn:aws:organizations::{mgmt}:ou/o-*/ou-*", f"arn:aws:organizations::{mgmt}:root/o-*/r-*"],
        ),
        _stmt(
            "ReadScpAttachments",
            ["organizations:ListPoliciesForTarget"],
            [
                f"arn:aws:organizations::{mgmt}:ou/o-*/ou-*",
                f"arn:aws:organizations::{mgmt}:account/o-*/*",
                f"arn:aws:organizations::{mgmt}:root/o-*/r-*",  # target_ous may name the root
            ],
            {"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}},
        ),
        _stmt(
            "ReadScpContent",
            ["organizations:DescribePolicy"],
            [f"arn:aws:organizations::{mgmt}:policy/o-*/service_control_policy/p-*"],
        ),
        _stmt(
            "ReadOrganizationPackStatus",
            ["config:GetOrganizationConformancePackDetailedStatus"],
            [f"arn:aws:config:*:{deployer}:organization-conformance-pack/*"],
        ),
        _stmt(
            "ReadStackSetInstances",
            ["cloudformation:ListStackInstances"],
            [
                f"arn:aws:cloudformation:*:{account}:stackset/{Names(prefix).any()}:*"
                for account in sorted({mgmt, deployer})
            ],
        ),
    ]
    if manifest.control_tower:
        # ListEnabledControls supports no resource-level permission (IAM service authorization reference).
        statements.append(_stmt("ReadEnabledControls", ["controltower:ListEnabledControls"], ["*"]))
    statements += vpc_bpa.caller_statements(manifest)  # the preventive layer's policy, when on
    return {"Version": VERSION, "Statement": statements}


def _pack_template_statements(account_id: str) -> list[dict[str, Any]]:
    """Only for ``--pack-templates``: the member pack's stack ARN, then its template."""
    return [
        # DescribeConformancePackStatus supports no resource-level permission (service authorization reference).
        _stmt("FindPackStacks", ["config:DescribeConformancePackStatus"], ["*"]),
        # Config names a pack's stack awsconfigconforms-<pack>-<id> (AWS Config guide, conformance-pack-cli).
        _stmt(
            "ReadPackTemplates",
            ["cloudformation:GetTemplate"],
            [f"arn:aws:cloudformation:*:{account_id}:stack/awsconfigconforms-*/*"],
        ),
    ]


def member_read_policy(manifest: Manifest, account_id: str, *, pack_templates: bool = False) -> dict[str, Any]:
    """For the read role in each member account (give ``${AWS::AccountId}`` to a StackSet)."""
    prefix = manifest.name_prefix
    extra = _pack_template_statements(account_id) if pack_templates and manifest.conformance_packs else []
    return {
        "Version": VERSION,
        "Statement": [
            *extra,
            _stmt(
                "ReadRecorder",
                ["config:DescribeConfigurationRecorderStatus", "config:DescribeConfigurationRecorders"],
                [f"arn:aws:config:*:{account_id}:configuration-recorder/*/*"],
            ),
            # DescribeConfigRules supports no resource-level permission.
            _stmt("ReadRules", ["config:DescribeConfigRules"], ["*"]),
            _stmt(
                "ReadGuardRuleText",
                ["config:GetCustomRulePolicy"],
                [f"arn:aws:config:*:{account_id}:config-rule/*"],
            ),
            _stmt(
                "ReadRemediationBindings",
                ["config:DescribeRemediationConfigurations"],
                [f"arn:aws:config:*:{account_id}:remediation-configuration/*"],
            ),
            # DescribeRemediationExceptions supports no resource-level permission; GetComplianceDetailsByConfigRule
            # takes the rule's ARN, which carries Config's rule id, not its name (service authorization reference).
            _stmt("ReadRemediationExceptions", ["config:DescribeRemediationExceptions"], ["*"]),
            _stmt(
                "ReadRuleCompliance",
                ["config:GetComplianceDetailsByConfigRule"],
                [f"arn:aws:config:*:{account_id}:config-rule/*"],
            ),
            _stmt(
                "ReadPackRuleNames",
                ["config:DescribeConformancePackCompliance"],
                [f"arn:aws:config:*:{account_id}:conformance-pack/*/*"],
            ),
            _stmt(
                "ReadRunbooks",
                ["ssm:DescribeDocument", "ssm:GetDocument"],
                [f"arn:aws:ssm:*:{account_id}:document/{Names(prefix).any()}"],
            ),
            # ListRules supports no resource-level permission; the targets are read per rule.
            _stmt("FindFastPathRules", ["events:ListRules"], ["*"]),
            _stmt(
                "ReadFastPathTargets",
                ["events:ListTargetsByRule"],
                [f"arn:aws:events:*:{account_id}:rule/{Names(prefix).any()}"],
            ),
            _stmt(
                "ReadRunbookRoles",
                ["iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"],
                [f"arn:aws:iam::{account_id}:role/{Names(prefix).any()}"],
            ),
            *vpc_bpa.member_statements(manifest),  # the preventive layer's effective setting, when on
            *notifications.member_statements(manifest, account_id),  # the notification wiring, when on
        ],
    }


def member_trust_policy(caller_account_id: str, external_id: str | None = None) -> dict[str, Any]:
    """The member read role trusts only the verifier's role, optionally with an external ID."""
    statement: dict[str, Any] = {
        "Sid": "OnlyTheOrgguardVerifier",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{caller_account_id}:role/{VERIFIER_ROLE}"},
        "Action": "sts:AssumeRole",
    }
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": VERSION, "Statement": [statement]}


def canary_policy(manifest: Manifest, account_id: str) -> dict[str, Any]:
    """For the role the canary assumes in the one account it runs in: build, remediate, observe, delete."""
    ec2 = f"arn:aws:ec2:*:{account_id}"
    tag = {"StringLike": {"aws:ResourceTag/orgguard:canary": "*"}}
    documents = sorted(
        {
            c.remediation.document
            for c in manifest.enabled_controls()
            if c.remediation.document and "AWS::EC2::SecurityGroup" in c.rule.resource_types
        }
    )
    roles = sorted(
        {
            c.remediation.role
            for c in manifest.enabled_controls()
            if c.remediation.role and "AWS::EC2::SecurityGroup" in c.rule.resource_types
        }
    )
    return {
        "Version": VERSION,
        "Statement": [
            _stmt(
                "CreateTaggedCanaryNetwork",
                ["ec2:CreateSecurityGroup", "ec2:CreateVpc"],
                [f"{ec2}:vpc/*", f"{ec2}:security-group/*"],
                {"StringLike": {"aws:RequestTag/orgguard:canary": "*"}},
            ),
            _stmt(
                "TagOnlyWhileCreating",
                ["ec2:CreateTags"],
                [f"{ec2}:vpc/*", f"{ec2}:security-group/*"],
                {"StringEquals": {"ec2:CreateAction": ["CreateSecurityGroup", "CreateVpc"]}},
            ),
            _stmt(
                "ChangeOnlyCanaryResources",
                ["ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup", "ec2:DeleteVpc"],
                [f"{ec2}:security-group/*", f"{ec2}:vpc/*"],
                tag,
            ),
            # DescribeSecurityGroupRules supports no resource-level permission.
            _stmt("ObserveRules", ["ec2:DescribeSecurityGroupRules"], ["*"]),
            _stmt(
                "RunTheRunbook",
                ["ssm:StartAutomationExecution"],
                [f"arn:aws:ssm:*:{account_id}:automation-definition/{d}:*" for d in documents],
            ),
            _stmt(
                "WatchTheRun", ["ssm:GetAutomationExecution"], [f"arn:aws:ssm:*:{account_id}:automation-execution/*"]
            ),
            _stmt(
                "PassTheRunbookRole",
                ["iam:PassRole"],
                [f"arn:aws:iam::{account_id}:role/{r}" for r in roles],
                {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            ),
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Print the four policies for a manifest: ``python -m orgguard.verify.iam MANIFEST``."""
    import argparse
    import json
    import sys

    from orgguard.exitcodes import ExitCode
    from orgguard.manifest import ManifestError, load_manifest

    parser = argparse.ArgumentParser(prog="python -m orgguard.verify.iam", description=main.__doc__)
    parser.add_argument("manifest")
    parser.add_argument("--member-account", default="${AWS::AccountId}", help="default: the StackSet placeholder")
    parser.add_argument("--external-id", default=None)
    parser.add_argument("--pack-templates", action="store_true", help="include what `verify --pack-templates` reads")
    args = parser.parse_args(argv)
    try:
        manifest = load_manifest(args.manifest, files="skip")  # the policies depend on the manifest alone
    except ManifestError as exc:
        for line in exc.problems:
            print(f"python -m orgguard.verify.iam: {line}", file=sys.stderr)
        return ExitCode.USAGE
    caller = manifest.organization.deployer_account_id
    sections = {
        f"{VERIFIER_ROLE}: permission policy (management or delegated-admin account)": caller_policy(manifest),
        f"{MEMBER_READ_ROLE}: trust policy (each member account)": member_trust_policy(caller, args.external_id),
        f"{MEMBER_READ_ROLE}: permission policy (each member account)": member_read_policy(
            manifest, args.member_account, pack_templates=args.pack_templates
        ),
        "canary role: permission policy (only the account the canary runs in)": canary_policy(
            manifest, args.member_account
        ),
    }
    for title, policy in sections.items():
        print(f"# {title}\n{json.dumps(policy, indent=2)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
