"""VPC Block Public Access, organization mode, in the sandbox: the synthesized plan refused at plan time where
another declarative policy already sets the same thing on the OU, then applied with real terraform, and the
verifier's mode per account and region. Its own file, so each sandbox file stays well under a minute."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orgguard.layers.vpc_block_public_access.entry import content_text, policy_content
from orgguard.layers.vpc_block_public_access.verify import check_exclusions
from orgguard.sandbox import Sandbox
from orgguard.verify import verify
from orgguard.verify.render import render_table
from tests.layers.test_vpc_block_public_access_sandbox import POLICY_TYPE, _in, _mine, _org_plan, _refused

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    saved = dict(os.environ)
    with Sandbox(tmp_path_factory.mktemp("bpa-org") / "sandbox") as sandbox:
        os.environ.update(sandbox.env())
        yield sandbox
    os.environ.clear()
    os.environ.update(saved)


def test_organization_plan_applies_with_real_terraform_and_verifies_per_account_and_region(
    sb: Sandbox, tmp_path: Path
) -> None:
    manifest, management = _org_plan(sb, tmp_path)
    orgs = sb.session().client("organizations")
    orgs.enable_policy_type(RootId=sb.org.root_id, PolicyType=POLICY_TYPE)
    # Another EC2 declarative policy already sets VPC BPA on the OU (Control Tower's CT.EC2.PV.8 is one):
    # refused at plan time, naming the field and both ways out; still nothing applied.
    pv8 = orgs.create_policy(
        Name="aws-guardrails-pv8", Description="t", Type=POLICY_TYPE,
        Content=content_text(policy_content("block-bidirectional", False)),
    )["Policy"]["PolicySummary"]
    orgs.attach_policy(PolicyId=pv8["Id"], TargetId=sb.org.ous["workloads"])
    # The same policy on the root reaches the OU by inheritance: refused too, in the same plan (the old stack
    # read only the OU's own policies, so a root-attached one went unseen).
    orgs.attach_policy(PolicyId=pv8["Id"], TargetId=sb.org.root_id)
    refusal = _refused(sb, tmp_path / "out", management)
    workloads_ou = sb.org.ous["workloads"]
    assert f"vpc_block_public_access.target_ous: {workloads_ou} already has another EC2 declarative" in refusal
    assert "vpc_block_public_access.target_ous: the organization's root already has another EC2 declarative" in refusal
    assert f"reaches {workloads_ou} by inheritance" in refusal
    assert [p["Name"] for p in orgs.list_policies(Filter=POLICY_TYPE)["Policies"]] == ["aws-guardrails-pv8"]
    orgs.detach_policy(PolicyId=pv8["Id"], TargetId=sb.org.ous["workloads"])
    orgs.detach_policy(PolicyId=pv8["Id"], TargetId=sb.org.root_id)
    sb.apply(tmp_path / "out", stacks=[management])  # only the stack holding the policy: the rest is not at stake

    home, workloads = sb.org.home_region, _in(sb, "workloads")
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    assert _mine(report) == sorted(
        [("vpc-block-public-access", a, home, "PASS") for a in workloads]
        + [("vpc-bpa-policy", sb.org.ous["workloads"], "global", "PASS")]
    )
    seen = next(r for r in report.results if r.check == "vpc-block-public-access").actual
    assert seen == {"mode": "block-ingress", "managed_by": "declarative-policy", "exclusions_allowed": "allowed"}

    # The same second policy attached after the apply: the verifier names it.
    orgs.attach_policy(PolicyId=pv8["Id"], TargetId=sb.org.ous["workloads"])
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    (policy_check,) = [r for r in report.results if r.check.startswith("vpc-bpa-policy")]
    assert policy_check.status == "FAIL" and "aws-guardrails-pv8" in policy_check.reason
    orgs.detach_policy(PolicyId=pv8["Id"], TargetId=sb.org.ous["workloads"])

    # Someone with policy rights detaches ours: every account of the OU fails, named with seen vs expected.
    name = manifest.vpc_block_public_access.policy_name if manifest.vpc_block_public_access else None
    ours = next(p for p in orgs.list_policies(Filter=POLICY_TYPE)["Policies"] if p["Name"] == name)
    orgs.detach_policy(PolicyId=ours["Id"], TargetId=sb.org.ous["workloads"])
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    failed = [r for r in report.results if r.check == "vpc-block-public-access"]
    assert {(r.account_id, r.status) for r in failed} == {(a, "FAIL") for a in workloads}
    assert "mode seen off, expected block-ingress" in failed[0].reason and failed[0].account_id in failed[0].reason
    orgs.attach_policy(PolicyId=ours["Id"], TargetId=sb.org.ous["workloads"])

    # A member admin exempts its own VPC (the plan allows exclusions): the verifier lists it per account and
    # region instead of passing silently; under a plan that forbids exclusions the same read is a FAIL.
    member = workloads[0]
    ec2 = sb.session(member, home).client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    exclusion = ec2.create_vpc_block_public_access_exclusion(
        VpcId=vpc, InternetGatewayExclusionMode="allow-bidirectional"
    )["VpcBlockPublicAccessExclusion"]["ExclusionId"]
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    rows = {r.account_id: r for r in report.results if r.check == "vpc-bpa-exclusions"}
    assert set(rows) == set(workloads) and {r.status for r in rows.values()} == {"PASS"}
    assert rows[member].actual == [
        {"id": exclusion, "resource": f"arn:aws:ec2:{home}:{member}:vpc/{vpc}", "mode": "allow-bidirectional",
         "state": "create-complete"}
    ]
    assert f"{member} {home}: 1 exclusion(s) allowed by the plan" in rows[member].reason
    assert exclusion in render_table(report)
    entry = manifest.vpc_block_public_access
    assert entry is not None
    strict = check_exclusions(_Target(ec2, member, home), entry.model_copy(update={"exclusions_allowed": False}))
    assert strict.status == "FAIL" and exclusion in strict.reason and "does not allow them" in strict.reason
    ec2.delete_vpc_block_public_access_exclusion(ExclusionId=exclusion)


@dataclass(frozen=True)
class _Target:
    """What check_exclusions reads of a verifier target: a real sandbox client, the account and the region."""

    ec2: Any
    account_id: str
    region: str

    def client(self, service: str) -> Any:
        assert service == "ec2"
        return self.ec2
