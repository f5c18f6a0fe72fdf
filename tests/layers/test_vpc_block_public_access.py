"""VPC Block Public Access, the preventive layer: governance file, plan, Terraform, report, diff, IAM.

The sandbox half (declarative-policy emulation, real terraform apply, verifier) is in
test_vpc_block_public_access_sandbox.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from parliament import analyze_policy_string

from orgguard.config.load import ConfigError, parse_governance
from orgguard.layers.vpc_block_public_access.entry import VpcBpaEntry, content_text
from orgguard.manifest import MANIFEST_FILE, Manifest, load_manifest
from orgguard.review.diff import BLOCKING, RUNBOOK, SCOPE, WEAKENED, diff_manifests
from orgguard.review.render import render_report as render
from orgguard.synth.build import synthesize
from orgguard.verify import iam

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "governance.yaml"
ACCOUNT_EXAMPLE = ROOT / "examples" / "account-vending.yaml"
WORKLOADS, SANDBOXES = "ou-a1b2-workloads", "ou-a1b2-sandboxes"  # the example's target OUs
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


def _data(base: Path = EXAMPLE, **bpa: Any) -> dict[str, Any]:
    data = yaml.safe_load(base.read_text())
    if bpa:
        data["vpc_block_public_access"] = bpa
    return data


def _synth(tmp: Path, name: str, data: dict[str, Any]) -> tuple[Manifest, Path]:
    config = tmp / f"{name}.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp / name
    return synthesize(config, out), out


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_governance(yaml.safe_dump(data), "g.yaml")
    return info.value.problems


@pytest.fixture(scope="module")
def org_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, Path]:
    return _synth(tmp_path_factory.mktemp("bpa-org"), "org", _data(mode="block-ingress", target_ous=[WORKLOADS]))


@pytest.fixture(scope="module")
def account_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, Path]:
    return _synth(tmp_path_factory.mktemp("bpa-acct"), "acct", _data(ACCOUNT_EXAMPLE, mode="block-bidirectional"))


# -- off by default ---------------------------------------------------------------------------------


def test_mode_off_synthesizes_byte_for_byte_what_a_file_without_the_section_does(tmp_path: Path) -> None:
    """Old code refuses the key (extra_forbidden); with the layer off, nothing the stacks or manifest hold moves."""
    _, without = _synth(tmp_path, "without", _data())
    _, off = _synth(tmp_path, "off", _data(mode="off", target_ous=[WORKLOADS], exclusions_allowed=False))
    stacks = sorted(p.relative_to(without) for p in without.rglob("*.json") if p.name != MANIFEST_FILE)
    assert stacks == sorted(p.relative_to(off) for p in off.rglob("*.json") if p.name != MANIFEST_FILE)
    for rel in stacks:
        assert (without / rel).read_bytes() == (off / rel).read_bytes(), rel
    a, b = (json.loads((d / MANIFEST_FILE).read_text()) for d in (without, off))
    a.pop("source"), b.pop("source")  # the governance file's own name and hash
    assert a == b
    assert "vpc_block_public_access" not in (off / MANIFEST_FILE).read_text()


# -- bad input: one line naming the field and the fix -------------------------------------------------


@pytest.mark.parametrize(
    ("bpa", "expected"),
    [
        ({"mode": "block_ingress"}, "vpc_block_public_access.mode: 'block_ingress' is not allowed"),
        ({"mode": True}, "vpc_block_public_access.mode: true is a boolean"),
        (
            {"mode": "block-ingress", "target_ous": ["ou-WORK"]},
            "vpc_block_public_access.target_ous[0]: 'ou-WORK' is malformed",
        ),
        (
            {"mode": "block-ingress", "target_ous": ["ou-a1b2-elsewhere1"]},
            "vpc_block_public_access.target_ous[0]: ou-a1b2-elsewhere1 is not one of organization.target_ous",
        ),
        ({"mode": "block-ingress", "target_ous": []}, "vpc_block_public_access.target_ous: is empty"),
        (
            {"mode": "block-ingress", "target_ous": [WORKLOADS, WORKLOADS]},
            "vpc_block_public_access.target_ous[1]: ou-a1b2-workloads is listed twice",
        ),
        ({"mode": "block-ingress", "exclusions": False}, "vpc_block_public_access.exclusions: unknown key"),
    ],
)
def test_bad_organization_mode_section_is_one_line_naming_the_field(bpa: dict[str, Any], expected: str) -> None:
    problems = _problems(_data(**bpa))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


@pytest.mark.parametrize(
    ("bpa", "expected"),
    [
        ({"mode": "block-ingress", "exclusions_allowed": False}, "vpc_block_public_access.exclusions_allowed: false"),
        ({"mode": "block-ingress", "target_ous": [WORKLOADS]}, "vpc_block_public_access.target_ous: only organization"),
    ],
)
def test_account_mode_refuses_what_only_the_declarative_policy_can_do(bpa: dict[str, Any], expected: str) -> None:
    problems = _problems(_data(ACCOUNT_EXAMPLE, **bpa))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_refused_file_exits_2_without_traceback_and_keeps_the_previous_output(
    tmp_path: Path, org_plan: tuple[Manifest, Path]
) -> None:
    _, out = org_plan
    before = (out / MANIFEST_FILE).read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_data(mode="block-ingress", target_ous=["ou-a1b2-elsewhere1"])))
    cli = [str(ROOT / ".venv" / "bin" / "orgguard")] if (ROOT / ".venv/bin/orgguard").exists() else ["orgguard"]
    run = subprocess.run([*cli, "synth", "--config", str(bad), "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    line = "vpc_block_public_access.target_ous[0]: ou-a1b2-elsewhere1 is not one of organization.target_ous"
    assert line in run.stderr
    assert (out / MANIFEST_FILE).read_bytes() == before


# -- the plan -----------------------------------------------------------------------------------------


def test_policy_writes_modes_with_underscores_and_locks_them_against_child_policies(
    org_plan: tuple[Manifest, Path],
) -> None:
    manifest, out = org_plan
    entry = manifest.vpc_block_public_access
    assert entry is not None and entry.organization_mode
    locked = ["@@none"]
    assert entry.policy_content == {
        "ec2_attributes": {
            "vpc_block_public_access": {
                "internet_gateway_block": {
                    "mode": {"@@assign": "block_ingress", "@@operators_allowed_for_child_policies": locked},
                    "exclusions_allowed": {"@@assign": "enabled", "@@operators_allowed_for_child_policies": locked},
                }
            }
        }
    }
    assert (entry.mode, entry.exclusions_allowed, entry.target_ous) == ("block-ingress", True, [WORKLOADS])
    # The delegated administrator runs the rest, so the policy sits with the SCP in the management stack.
    stack = json.loads((out / "stacks" / manifest.stacks[1].name / "cdk.tf.json").read_text())
    assert manifest.stacks[1].kind == "org-management"
    policy = stack["resource"]["aws_organizations_policy"]["vpc-bpa"]
    assert policy["type"] == "DECLARATIVE_POLICY_EC2"
    assert hashlib.sha256(policy["content"].encode()).hexdigest() == entry.policy_sha256
    attachments = stack["resource"]["aws_organizations_policy_attachment"]
    assert [v["target_id"] for k, v in attachments.items() if k.startswith("vpc-bpa-")] == [WORKLOADS]
    check = stack["data"]["aws_organizations_organization"]["vpc-bpa-organization"]["lifecycle"]["postcondition"]
    assert "DECLARATIVE_POLICY_EC2" in check[0]["condition"] and "enable-policy-type" in check[0]["error_message"]
    # Another declarative policy on the OU that sets VPC BPA (CT.EC2.PV.8 is one) stops the plan too.
    conflict, on_root = attachments[f"vpc-bpa-{WORKLOADS}"]["lifecycle"]["precondition"]
    assert "data.aws_organizations_policy.vpc-bpa-attached-root" in on_root["condition"]
    assert f"data.aws_organizations_policy.vpc-bpa-attached-{WORKLOADS}" in conflict["condition"]
    assert conflict["error_message"].startswith(f"vpc_block_public_access.target_ous: {WORKLOADS} already has")
    listed = stack["data"]["aws_organizations_policies_for_target"][f"vpc-bpa-listed-{WORKLOADS}"]
    assert (listed["target_id"], listed["filter"]) == (WORKLOADS, "DECLARATIVE_POLICY_EC2")


def test_target_ous_default_to_the_organization_and_exclusions_can_be_forbidden(tmp_path: Path) -> None:
    manifest, _ = _synth(tmp_path, "all", _data(mode="block-bidirectional", exclusions_allowed=False))
    entry = manifest.vpc_block_public_access
    assert entry is not None and entry.target_ous == [WORKLOADS, SANDBOXES]
    block = (entry.policy_content or {})["ec2_attributes"]["vpc_block_public_access"]["internet_gateway_block"]
    assert block["mode"]["@@assign"] == "block_bidirectional"
    assert block["exclusions_allowed"]["@@assign"] == "disabled"


def test_account_mode_sets_the_mode_per_account_and_region_in_the_regional_module(
    account_plan: tuple[Manifest, Path],
) -> None:
    manifest, out = account_plan
    entry = manifest.vpc_block_public_access
    assert entry is not None and not entry.organization_mode and entry.policy_content is None
    assert {(a.account_id, a.region, a.mode) for a in entry.accounts} == {
        (acct, region, "block-bidirectional") for acct in manifest.accounts for region in manifest.organization.regions
    }
    module = json.loads((out / "modules" / "orgguard-account-regional" / "main.tf.json").read_text())
    (options,) = module["resource"]["aws_vpc_block_public_access_options"].values()
    assert options["internet_gateway_block_mode"] == "block-bidirectional"


def _validate(stack_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    init = ["terraform", "init", "-backend=false", "-input=false", "-no-color"]
    done = subprocess.run(init, cwd=stack_dir, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return subprocess.run(
        ["terraform", "validate", "-no-color"], cwd=stack_dir, env=env, capture_output=True, text=True, timeout=300
    )


@needs_terraform
def test_stacks_with_the_layer_pass_terraform_validate(
    org_plan: tuple[Manifest, Path], account_plan: tuple[Manifest, Path]
) -> None:
    (org_manifest, org_out), (acct_manifest, acct_out) = org_plan, account_plan
    management = next(s.name for s in org_manifest.stacks if s.kind == "org-management")
    for stack in (org_out / "stacks" / management, acct_out / "stacks" / acct_manifest.stacks[0].name):
        result = _validate(stack)
        assert result.returncode == 0, f"{stack.name}: {result.stderr}"


# -- diff and report ----------------------------------------------------------------------------------


def _with(manifest: Manifest, **changes: Any) -> Manifest:
    entry = manifest.vpc_block_public_access
    assert entry is not None
    if not changes:
        return manifest
    fields = {**entry.model_dump(), **changes}
    if "mode" in changes or "exclusions_allowed" in changes:
        from orgguard.layers.vpc_block_public_access.entry import policy_content

        fields["policy_content"] = policy_content(fields["mode"], fields["exclusions_allowed"])
        fields["policy_sha256"] = hashlib.sha256(content_text(fields["policy_content"]).encode()).hexdigest()
    return manifest.model_copy(update={"vpc_block_public_access": VpcBpaEntry.model_validate(fields)})


def _flags(old: Manifest | None, new: Manifest) -> list[tuple[str, str]]:
    return [(f.kind, f.detail) for f in diff_manifests(old, new).flags if f.subject == "VPC Block Public Access"]


def test_turning_the_layer_off_is_a_flagged_weakening(org_plan: tuple[Manifest, Path]) -> None:
    on, _ = org_plan
    off = on.model_copy(update={"vpc_block_public_access": None})
    ((kind, detail),) = _flags(on, off)
    assert kind == WEAKENED and detail.startswith("turned off (was block-ingress)")


@pytest.mark.parametrize(
    ("before", "after", "kind", "words"),
    [
        (None, {}, BLOCKING, "turned on, block-ingress"),
        ({}, {"mode": "block-bidirectional"}, BLOCKING, "mode block-ingress → block-bidirectional"),
        ({"mode": "block-bidirectional"}, {}, WEAKENED, "mode block-bidirectional → block-ingress"),
        ({"exclusions_allowed": False}, {}, WEAKENED, "exclusions allowed"),
        ({}, {"exclusions_allowed": False}, BLOCKING, "exclusions no longer allowed"),
        ({"target_ous": [WORKLOADS, SANDBOXES]}, {}, SCOPE, f"target OU {SANDBOXES} removed"),
        ({}, {"target_ous": [WORKLOADS, SANDBOXES]}, BLOCKING, f"target OU {SANDBOXES} added"),
    ],
)
def test_each_change_of_the_layer_is_flagged_by_what_it_does(
    org_plan: tuple[Manifest, Path], before: dict | None, after: dict, kind: str, words: str
) -> None:
    on, _ = org_plan
    old = on.model_copy(update={"vpc_block_public_access": None}) if before is None else _with(on, **before)
    assert (kind, words) in [(k, d[: len(words)]) for k, d in _flags(old, _with(on, **after))]


def test_edited_policy_content_with_the_same_settings_is_flagged(org_plan: tuple[Manifest, Path]) -> None:
    on, _ = org_plan
    entry = on.vpc_block_public_access
    assert entry is not None
    content = json.loads(json.dumps(entry.policy_content))
    content["ec2_attributes"]["vpc_block_public_access"]["internet_gateway_block"]["mode"].pop(
        "@@operators_allowed_for_child_policies"
    )
    edited = on.model_copy(update={"vpc_block_public_access": entry.model_copy(update={"policy_content": content})})
    assert [k for k, _ in _flags(on, edited)] == [RUNBOOK]


def test_report_explains_what_is_blocked_and_what_is_not_in_both_formats(org_plan: tuple[Manifest, Path]) -> None:
    manifest, _ = org_plan
    for fmt in ("markdown", "html"):
        text = render(manifest, fmt=fmt)
        assert "Preventive layer: VPC Block Public Access" in text
        for phrase in (
            "Inbound internet traffic through internet gateways",
            "NAT gateways and egress-only internet gateways keep working",
            "route it privately to targets in subnets that are not excluded",
            "Transit Gateway, Site-to-Site VPN, Direct Connect (private VIF), VPC peering",
            "CT.EC2.PV.8",
            "https://docs.aws.amazon.com/vpc/latest/userguide/security-vpc-bpa-basics.html",
        ):
            assert phrase in text, (fmt, phrase)


def test_report_says_nothing_of_the_layer_when_it_is_off(org_plan: tuple[Manifest, Path]) -> None:
    manifest, _ = org_plan
    off = manifest.model_copy(update={"vpc_block_public_access": None})
    assert "VPC Block Public Access" not in render(off, fmt="markdown")


def test_report_of_account_mode_names_bidirectional_and_the_reset_on_destroy(
    account_plan: tuple[Manifest, Path],
) -> None:
    manifest, _ = account_plan
    text = render(manifest, fmt="markdown")
    assert "NAT gateways included" in text and "sets the mode to off" in text
    assert "keep working" not in text  # NAT egress is blocked too under block-bidirectional


# -- the verifier's own permissions ---------------------------------------------------------------------


def _lint(policy: dict[str, Any]) -> list[str]:
    return [f"{f.issue}: {f.detail}" for f in analyze_policy_string(json.dumps(policy)).findings]


def test_verifier_permissions_grow_by_the_reads_and_stay_lint_clean(org_plan: tuple[Manifest, Path]) -> None:
    manifest, _ = org_plan
    caller, member = iam.caller_policy(manifest), iam.member_read_policy(manifest, "210000000001")
    assert _lint(caller) == [] and _lint(member) == []
    sids = {s["Sid"]: s for s in caller["Statement"]}
    assert sids["ReadDeclarativePolicyAttachments"]["Condition"] == {
        "StringEquals": {"organizations:PolicyType": "DECLARATIVE_POLICY_EC2"}
    }
    assert sids["ReadDeclarativePolicyContent"]["Resource"] == [
        "arn:aws:organizations::111111111111:policy/o-*/declarative_policy_ec2/p-*"
    ]
    actions = [a for s in member["Statement"] for a in s["Action"]]
    assert "ec2:DescribeVpcBlockPublicAccessOptions" in actions
    off = manifest.model_copy(update={"vpc_block_public_access": None})
    assert "ec2:DescribeVpcBlockPublicAccessOptions" not in json.dumps(iam.member_read_policy(off, "210000000001"))
    assert "DECLARATIVE_POLICY_EC2" not in json.dumps(iam.caller_policy(off))


def test_manifest_with_the_layer_round_trips_through_the_loader(org_plan: tuple[Manifest, Path]) -> None:
    manifest, out = org_plan
    assert load_manifest(out / MANIFEST_FILE).vpc_block_public_access == manifest.vpc_block_public_access


@needs_terraform
def test_account_mode_with_only_the_layer_passes_terraform_validate(tmp_path: Path) -> None:
    """No remediating control means no runbook role: the global module used to hold `"resource": {}`,
    which Terraform JSON refuses ("Missing block label")."""
    data = _data(ACCOUNT_EXAMPLE, mode="block-ingress")
    data["controls"] = {c: {"enabled": False} for c in data["controls"]}
    data["fast_path"] = {"enabled": False}
    manifest, out = _synth(tmp_path, "only-layer", data)
    assert manifest.roles == [] and manifest.vpc_block_public_access is not None
    result = _validate(out / "stacks" / manifest.stacks[0].name)
    assert result.returncode == 0, result.stderr


# -- review findings (FIXBPA) --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["no", "yes", "false", "off", 0, 1])
def test_exclusions_allowed_accepts_only_true_or_false_not_a_quoted_word_or_number(value: Any) -> None:
    """Old code read the quoted "no" as false (and "yes" or 1 as true): a typo flipped who may exempt VPCs."""
    problems = _problems(_data(mode="block-ingress", target_ous=[WORKLOADS], exclusions_allowed=value))
    assert problems == [
        f"vpc_block_public_access.exclusions_allowed: {value!r} is not a boolean; write true or false, unquoted"
    ], problems


def test_report_says_any_account_admin_can_exempt_their_own_vpcs_and_the_verifier_lists_them(
    org_plan: tuple[Manifest, Path],
) -> None:
    """Old code said only "allowed"; the plain words now say who can exempt what, and where to look."""
    manifest, _ = org_plan
    for fmt in ("markdown", "html"):
        text = " ".join(render(manifest, fmt=fmt).split())
        assert "any administrator of an account in scope can exempt their own VPCs and subnets" in text, fmt
        assert "The verifier lists every exclusion per account and region (vpc-bpa-exclusions)" in text, fmt
    strict = _with(manifest, exclusions_allowed=False)
    assert "can exempt their own VPCs" not in render(strict, fmt="markdown")


def test_report_cites_the_vpc_bpa_basics_page_beside_load_balancers_cloudfront_and_global_accelerator(
    org_plan: tuple[Manifest, Path],
) -> None:
    """Old code claimed they "stop receiving internet traffic" with no source beside it."""
    manifest, _ = org_plan
    text = " ".join(render(manifest, fmt="markdown").split())
    assert "stop receiving internet traffic" not in text
    assert (
        "CloudFront VPC origins and Global Accelerator (inbound) in subnets not excluded: the VPC User Guide's "
        "“VPC BPA basics” page lists each of them as impacted by VPC BPA "
        "(https://docs.aws.amazon.com/vpc/latest/userguide/security-vpc-bpa-basics.html)"
    ) in text
    assert "Gateway Load Balancer" not in text  # the page's copies disagree on it: not claimed


def test_account_mode_report_says_the_owners_own_setting_is_overwritten_and_not_restored(tmp_path: Path) -> None:
    """Old code said only that destroy sets off: an owner's block-bidirectional silently became block-ingress."""
    manifest, _ = _synth(tmp_path, "acct-ingress", _data(ACCOUNT_EXAMPLE, mode="block-ingress"))
    text = " ".join(render(manifest, fmt="markdown").split())
    assert "Account mode overwrites the account's own setting" in text
    assert "a block-bidirectional the account owner chose becomes block-ingress, which lets outbound" in text
    assert "destroying it sets off, not what was there before" in text
    assert "describe-vpc-block-public-access-options" in text


def test_member_read_role_may_list_exclusions_and_stays_lint_clean(org_plan: tuple[Manifest, Path]) -> None:
    """Old code granted only the options read, so the verifier could not list exclusions."""
    manifest, _ = org_plan
    member = iam.member_read_policy(manifest, "210000000001")
    assert _lint(member) == []
    actions = [a for s in member["Statement"] for a in s["Action"]]
    assert "ec2:DescribeVpcBlockPublicAccessExclusions" in actions
    off = manifest.model_copy(update={"vpc_block_public_access": None})
    assert "VpcBlockPublicAccessExclusions" not in json.dumps(iam.member_read_policy(off, "210000000001"))


def test_policy_attachment_also_refuses_a_vpc_bpa_policy_on_the_root(org_plan: tuple[Manifest, Path]) -> None:
    """Old code read only the OU's own policies: one on the root reached the OU by inheritance unseen."""
    manifest, out = org_plan
    stack = next(s.name for s in manifest.stacks if s.kind == "org-management")
    tf = json.loads((out / "stacks" / stack / "cdk.tf.json").read_text())
    listed = tf["data"]["aws_organizations_policies_for_target"]
    (root,) = [v for k, v in listed.items() if "listed-root" in k]
    assert root["target_id"] == "${data.aws_organizations_organization.vpc-bpa-organization.roots[0].id}"
    assert root["filter"] == "DECLARATIVE_POLICY_EC2"
    attachment = tf["resource"]["aws_organizations_policy_attachment"][f"vpc-bpa-{WORKLOADS}"]
    messages = [c["error_message"] for c in attachment["lifecycle"]["precondition"]]
    root_line = "vpc_block_public_access.target_ous: the organization's root already has"
    assert any(m.startswith(root_line) for m in messages)
