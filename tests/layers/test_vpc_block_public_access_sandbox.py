"""VPC Block Public Access in the sandbox: the emulated APIs and their rules (docs/sandbox.md), and the plan
stopping at its prerequisite. The applies and the verifier: test_vpc_block_public_access_org_sandbox.py and
test_vpc_block_public_access_account_sandbox.py (one sandbox each, so each file stays well under a minute)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from orgguard.layers.vpc_block_public_access.entry import content_text, policy_content
from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox, SandboxError
from orgguard.synth.build import synthesize
from orgguard.verify import VerifyReport

ROOT = Path(__file__).resolve().parents[2]
POLICY_TYPE = "DECLARATIVE_POLICY_EC2"
pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    saved = dict(os.environ)
    with Sandbox(tmp_path_factory.mktemp("bpa-sandbox") / "sandbox") as sandbox:
        os.environ.update(sandbox.env())
        yield sandbox
    os.environ.clear()
    os.environ.update(saved)


def _in(sb: Sandbox, ou_name: str) -> list[str]:
    return sorted(a for a, ou in sb.org.accounts.items() if ou == sb.org.ous[ou_name])


def _options(sb: Sandbox, account: str, region: str) -> dict[str, Any]:
    return sb.session(account, region).client("ec2").describe_vpc_block_public_access_options()[
        "VpcBlockPublicAccessOptions"
    ]


def _governance(sb: Sandbox, work: Path, name: str, **changes: Any) -> Path:
    """A small file: the sandbox's organization, its home region only, the SCP off."""
    data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
    data["organization"]["regions"] = [sb.org.home_region]
    data["scp"] = {"protect_governance_resources": False}
    data["exemptions"]["known"] = []  # the example's exemption names an account outside this sandbox
    data.update(changes)
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _refused(sb: Sandbox, out: Path, stack: str) -> str:
    """The apply's refusal, white space normalized (terraform wraps its error text)."""
    with pytest.raises(SandboxError) as refused:
        sb.apply(out, stacks=[stack])
    return " ".join(str(refused.value).split())


def _mine(report: VerifyReport) -> list[tuple[str, str, str, str]]:
    return sorted(
        (r.check.split(":")[0], r.account_id, r.region, r.status)
        for r in report.results
        if r.check.startswith(("vpc-block-public-access", "vpc-bpa-policy"))
    )


def test_sandbox_declarative_policy_follows_the_rules_docs_sandbox_md_lists(tmp_path: Path) -> None:
    """Its own sandbox: these attachments must not leak into the plan tests."""
    with Sandbox(tmp_path / "sandbox") as fresh:
        org = fresh.org
        orgs = fresh.session().client("organizations")
        workload, outside = _in(fresh, "workloads")[0], _in(fresh, "sandboxes")[0]
        region = org.home_region
        # An account's own setting, before any policy: off, managed by the account, and changeable.
        assert (_options(fresh, workload, region)["InternetGatewayBlockMode"], _options(fresh, workload, region)[
            "ManagedBy"
        ]) == ("off", "account")
        ec2 = fresh.session(outside, region).client("ec2")
        changed = ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-ingress")
        assert changed["VpcBlockPublicAccessOptions"]["State"] == "update-complete"
        strict_content = content_text(policy_content("block-bidirectional", False))
        strict = orgs.create_policy(Name="strict", Description="t", Type=POLICY_TYPE, Content=strict_content)[
            "Policy"
        ]["PolicySummary"]
        assert "/declarative_policy_ec2/" in strict["Arn"]
        with pytest.raises(ClientError) as refused:  # the type is not enabled on the root yet
            orgs.attach_policy(PolicyId=strict["Id"], TargetId=org.ous["workloads"])
        assert refused.value.response["Error"]["Code"] == "PolicyTypeNotEnabledException"
        orgs.enable_policy_type(RootId=org.root_id, PolicyType=POLICY_TYPE)
        orgs.attach_policy(PolicyId=strict["Id"], TargetId=org.ous["workloads"])
        seen = _options(fresh, workload, region)
        assert (seen["InternetGatewayBlockMode"], seen["ManagedBy"], seen["ExclusionsAllowed"]) == (
            "block-bidirectional", "declarative-policy", "not-allowed"
        )
        assert _options(fresh, outside, region)["ManagedBy"] == "account"  # outside the OU: its own setting
        with pytest.raises(ClientError) as locked:
            fresh.session(workload, region).client("ec2").modify_vpc_block_public_access_options(
                InternetGatewayBlockMode="off"
            )
        assert locked.value.response["Error"]["Code"] == "OperationNotPermitted"
        # A weaker policy attached lower (to the account) cannot undo a value locked with @@none.
        weak = orgs.create_policy(
            Name="weak", Description="t", Type=POLICY_TYPE, Content=content_text(policy_content("block-ingress", True))
        )["Policy"]["PolicySummary"]
        orgs.attach_policy(PolicyId=weak["Id"], TargetId=workload)
        assert _options(fresh, workload, region)["InternetGatewayBlockMode"] == "block-bidirectional"
        listed = orgs.list_policies_for_target(TargetId=org.ous["workloads"], Filter=POLICY_TYPE)["Policies"]
        assert [p["Name"] for p in listed] == ["strict"]
        # The strict policy says exclusions disabled: the account cannot exempt its own VPC (docs/sandbox.md).
        member = fresh.session(workload, region).client("ec2")
        vpc = member.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        with pytest.raises(ClientError) as no_exclusion:
            member.create_vpc_block_public_access_exclusion(
                VpcId=vpc, InternetGatewayExclusionMode="allow-bidirectional"
            )
        assert no_exclusion.value.response["Error"]["Code"] == "OperationNotPermitted"
        assert member.describe_vpc_block_public_access_exclusions()["VpcBlockPublicAccessExclusions"] == []


def _org_plan(sb: Sandbox, work: Path) -> tuple[Manifest, str]:
    """The small organization plan with the layer on the workloads OU, and the stack that holds its policy."""
    config = _governance(
        sb, work, "org", vpc_block_public_access={"mode": "block-ingress", "target_ous": [sb.org.ous["workloads"]]}
    )
    manifest = synthesize(config, work / "out")
    return manifest, next(s.name for s in manifest.stacks if s.kind == "org-management")


def test_plan_stops_with_one_line_when_the_policy_type_is_not_enabled(sb: Sandbox, tmp_path: Path) -> None:
    """The documented prerequisite is missing: the plan stops naming the fix, and nothing is applied (AWS would
    fail AttachPolicy mid-apply, after creating the policy)."""
    _, management = _org_plan(sb, tmp_path)
    refusal = _refused(sb, tmp_path / "out", management)
    assert "aws organizations enable-policy-type --root-id <r-...> --policy-type DECLARATIVE_POLICY_EC2" in refusal
    assert sb.session().client("organizations").list_policies(Filter=POLICY_TYPE)["Policies"] == []


def test_sandbox_exclusions_are_created_listed_page_by_page_and_deleted_like_the_botocore_model(sb: Sandbox) -> None:
    """Old sandbox answered NotImplemented: an account outside any policy exempts VPCs and subnets; the verifier's
    reader follows NextToken (botocore has no paginator for it) and a deleted one stays listed as delete-complete."""
    from orgguard.layers.vpc_block_public_access.verify import list_exclusions

    account, region = _in(sb, "sandboxes")[0], sb.org.home_region
    ec2 = sb.session(account, region).client("ec2")
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(5)]
    subnet = ec2.create_subnet(VpcId=vpcs[0], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    made = [
        ec2.create_vpc_block_public_access_exclusion(VpcId=v, InternetGatewayExclusionMode="allow-bidirectional")[
            "VpcBlockPublicAccessExclusion"
        ]
        for v in vpcs
    ]
    made.append(
        ec2.create_vpc_block_public_access_exclusion(
            SubnetId=subnet, InternetGatewayExclusionMode="allow-egress",
            TagSpecifications=[
                {"ResourceType": "vpc-block-public-access-exclusion", "Tags": [{"Key": "k", "Value": "v"}]}
            ],
        )["VpcBlockPublicAccessExclusion"]
    )
    assert made[0]["ResourceArn"] == f"arn:aws:ec2:{region}:{account}:vpc/{vpcs[0]}"
    assert (made[-1]["ResourceArn"], made[-1]["State"]) == (
        f"arn:aws:ec2:{region}:{account}:subnet/{subnet}", "create-complete"
    )
    first = ec2.describe_vpc_block_public_access_exclusions(MaxResults=5)
    assert len(first["VpcBlockPublicAccessExclusions"]) == 5 and first["NextToken"]
    rest = ec2.describe_vpc_block_public_access_exclusions(MaxResults=5, NextToken=first["NextToken"])
    assert len(rest["VpcBlockPublicAccessExclusions"]) == 1 and "NextToken" not in rest
    assert sorted(e["ExclusionId"] for e in list_exclusions(ec2)) == sorted(e["ExclusionId"] for e in made)
    one = ec2.describe_vpc_block_public_access_exclusions(ExclusionIds=[made[-1]["ExclusionId"]])
    assert one["VpcBlockPublicAccessExclusions"][0]["Tags"] == [{"Key": "k", "Value": "v"}]
    for bad, code in (
        ({"VpcId": vpcs[0], "SubnetId": subnet}, "InvalidParameterCombination"),
        ({"VpcId": "vpc-0000000000000000f"}, "InvalidVpcID.NotFound"),
    ):
        with pytest.raises(ClientError) as refused:
            ec2.create_vpc_block_public_access_exclusion(InternetGatewayExclusionMode="allow-bidirectional", **bad)
        assert refused.value.response["Error"]["Code"] == code
    gone = ec2.delete_vpc_block_public_access_exclusion(ExclusionId=made[0]["ExclusionId"])
    assert gone["VpcBlockPublicAccessExclusion"]["State"] == "delete-complete"
    assert len(list_exclusions(ec2)) == 6
    for e in made[1:]:
        ec2.delete_vpc_block_public_access_exclusion(ExclusionId=e["ExclusionId"])  # leave the shared sandbox clean
