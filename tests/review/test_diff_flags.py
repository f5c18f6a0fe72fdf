"""Each class of risky change is flagged loudly; harmless or narrowing changes are listed, not flagged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from orgguard.manifest import Manifest
from orgguard.review.diff import (
    DISABLED,
    DOWNGRADED,
    EXCLUSION,
    EXEMPTION,
    SCOPE,
    WIDENED,
    ManifestDiff,
    diff_manifests,
)
from orgguard.review.render import render_report

from .factory import ECS_ROLE, SG_ROLE, control, example_manifest, mutate, role

TODAY = dt.date(2026, 6, 1)


def changed(edit: Any) -> tuple[Manifest, ManifestDiff]:
    new = mutate(example_manifest(), edit)
    return new, diff_manifests(example_manifest(), new)


def kinds(diff: ManifestDiff) -> list[str]:
    return [f.kind for f in diff.flags]


def assert_loud(new: Manifest, diff: ManifestDiff, title: str, *facts: str) -> None:
    """The flag shows in both formats, marked as needing approval."""
    md = render_report(new, "markdown", diff=diff, today=TODAY)
    html = render_report(new, "html", diff=diff, today=TODAY)
    assert f"**⚠ {title}**" in md and "approval required" in md
    assert f'<span class="kind">⚠ {title}</span>' in html
    for fact in facts:
        assert fact in md.replace("\\", "")
        assert fact in html


def test_identical_plans_have_no_changes_and_no_flags() -> None:
    diff = diff_manifests(example_manifest(), example_manifest())
    assert diff.empty
    assert "The plan is identical to the previous one." in render_report(example_manifest(), diff=diff, today=TODAY)


def test_role_gaining_an_action_is_flagged_as_widened_permission() -> None:
    def edit(d: dict[str, Any]) -> None:
        role(d, SG_ROLE)["permission_policies"]["revoke"]["Statement"][1]["Action"] = [
            "ec2:RevokeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupIngress",
        ]

    new, diff = changed(edit)
    assert kinds(diff) == [WIDENED]
    assert diff.flags[0].subject == f"role {SG_ROLE}"
    assert_loud(new, diff, "WIDENED PERMISSION", "ec2:AuthorizeSecurityGroupIngress")


def test_role_with_broader_resource_is_flagged_as_widened_permission() -> None:
    new, diff = changed(lambda d: role(d, ECS_ROLE)["permission_policies"]["ecs"]["Statement"][1].update(Resource="*"))
    assert kinds(diff) == [WIDENED]
    assert "ecs:UpdateService now on *" in diff.flags[0].detail
    assert_loud(new, diff, "WIDENED PERMISSION", "ecs:UpdateService now on *")


def test_trust_losing_a_condition_is_flagged_as_widened_permission() -> None:
    new, diff = changed(lambda d: role(d, SG_ROLE)["trust_policy"]["Statement"][0]["Condition"].pop("ArnLike"))
    assert kinds(diff) == [WIDENED]
    assert "trust policy" in diff.flags[0].detail and "aws:SourceArn" in diff.flags[0].detail
    assert_loud(new, diff, "WIDENED PERMISSION", "loses condition ArnLike aws:SourceArn")


def test_narrowed_role_is_listed_but_not_flagged() -> None:
    def edit(d: dict[str, Any]) -> None:
        stmt = role(d, SG_ROLE)["permission_policies"]["revoke"]["Statement"][1]
        stmt["Resource"] = "arn:aws:ec2:us-east-1:${AWS::AccountId}:security-group/*"
        stmt["Condition"] = {"StringEquals": {"ec2:Vpc": "arn:aws:ec2:us-east-1:${AWS::AccountId}:vpc/vpc-1"}}

    _, diff = changed(edit)
    assert diff.flags == []
    assert [c.detail for c in diff.changes] == ["permissions changed, not widened (narrowed or reworded)"]


def test_disabled_control_is_flagged() -> None:
    new, diff = changed(lambda d: control(d, "restricted-ssh").update(enabled=False))
    assert kinds(diff) == [DISABLED]
    assert diff.changed_controls == ["restricted-ssh"]
    assert_loud(new, diff, "CONTROL DISABLED", "restricted-ssh")


def test_removed_control_is_flagged_as_disabled() -> None:
    new, diff = changed(lambda d: d["controls"].pop(0))
    assert diff.removed_controls == ["restricted-ssh"]
    assert kinds(diff) == [DISABLED]
    assert_loud(new, diff, "CONTROL DISABLED", "removed from the plan")


def test_remediation_automatic_to_manual_is_flagged() -> None:
    new, diff = changed(lambda d: control(d, "restricted-common-ports")["remediation"].update(mode="manual"))
    assert kinds(diff) == [DOWNGRADED]
    assert_loud(new, diff, "REMEDIATION DOWNGRADED", "automatic → manual")


def test_remediation_switched_off_is_flagged_and_upgrade_is_not() -> None:
    _, diff = changed(lambda d: control(d, "ecs-service-public-ip")["remediation"].update(mode="off"))
    assert kinds(diff) == [DOWNGRADED]
    assert "manual → off" in diff.flags[0].detail
    _, up = changed(lambda d: control(d, "ecs-service-public-ip")["remediation"].update(mode="automatic"))
    assert up.flags == [] and "remediation manual → automatic" in [c.detail for c in up.changes]


def test_new_excluded_account_is_flagged() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["organization"]["excluded_accounts"].append({"account_id": "444444444444", "reason": "Legacy VPN appliance"})
        for pack in d["conformance_packs"]:
            pack["excluded_accounts"].append("444444444444")

    new, diff = changed(edit)
    assert kinds(diff) == [EXCLUSION]
    assert_loud(new, diff, "NEW EXCLUDED ACCOUNT", "444444444444", "Legacy VPN appliance")


def test_account_excluded_from_one_pack_only_is_flagged() -> None:
    _, diff = changed(lambda d: d["conformance_packs"][1]["excluded_accounts"].append("555555555555"))
    assert kinds(diff) == [EXCLUSION]
    assert "orgguard-guardrails-eu-west-1 (eu-west-1)" in diff.flags[0].detail


def test_removed_region_is_flagged() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["organization"]["regions"].remove("ap-northeast-1")
        d["conformance_packs"] = [p for p in d["conformance_packs"] if p["region"] != "ap-northeast-1"]

    new, diff = changed(edit)
    assert kinds(diff) == [SCOPE, SCOPE]  # the region, and the pack that covered it
    assert "region ap-northeast-1 removed" in diff.flags[0].detail
    assert "pack removed" in diff.flags[1].detail
    assert_loud(new, diff, "SCOPE REDUCED", "ap-northeast-1")


def test_removed_target_ou_is_flagged() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["organization"]["target_ous"].remove("ou-a1b2-sandboxes")

    new, diff = changed(edit)
    assert kinds(diff) == [SCOPE]
    assert_loud(new, diff, "SCOPE REDUCED", "target OU ou-a1b2-sandboxes removed")


def test_added_exemption_is_flagged() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["exemptions"].append(
            {
                "account_id": "333333333333",
                "security_group_id": "sg-0fedcba9876543210",
                "owner": "web-team@example.com",
                "reason": "Public bastion",
                "expires": "2026-12-31",
            }
        )

    new, diff = changed(edit)
    assert kinds(diff) == [EXEMPTION]
    assert_loud(new, diff, "EXEMPTION ADDED", "sg-0fedcba9876543210", "web-team@example.com")


def test_extended_exemption_is_flagged() -> None:
    _, diff = changed(lambda d: d["exemptions"][0].update(expires="2029-01-01"))
    assert kinds(diff) == [EXEMPTION]
    assert "extended from 2027-03-31 to 2029-01-01" in diff.flags[0].detail


def test_parameter_change_is_listed_not_flagged() -> None:
    new, diff = changed(
        lambda d: control(d, "restricted-common-ports")["rule"]["input_parameters"].update(blockedPort5="5432")
    )
    assert diff.flags == []
    assert diff.changed_controls == ["restricted-common-ports"]
    assert [c.detail for c in diff.changes] == ["rule parameter blockedPort5: 4333 → 5432"]
    md = render_report(new, diff=diff, today=TODAY)
    assert "rule parameter blockedPort5: 4333 → 5432" in md and "No flagged changes" in md


def test_added_control_is_listed() -> None:
    def edit(d: dict[str, Any]) -> None:
        extra = dict(control(d, "restricted-ssh"), id="restricted-rdp")
        d["controls"].append(extra)

    _, diff = changed(edit)
    assert diff.added_controls == ["restricted-rdp"] and diff.flags == []


def test_first_deployment_flags_every_role_exclusion_and_exemption() -> None:
    diff = diff_manifests(None, example_manifest())
    assert diff.first_deployment
    assert sorted(kinds(diff)) == sorted([WIDENED, WIDENED, EXCLUSION, EXEMPTION])
    assert len(diff.added_controls) == 5
