"""The one-page review holds every fact a compliance owner approves, in Markdown and in HTML."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from orgguard.config.load import parse_governance
from orgguard.controls import CATALOG
from orgguard.review.caveats import general_caveats
from orgguard.review.render import render_report
from orgguard.synth.plan import build_plan

from .factory import SG_DOC, SG_ROLE, example_manifest, mutate

ROOT = Path(__file__).resolve().parents[2]

TODAY = dt.date(2026, 6, 1)


@pytest.fixture(params=["markdown", "html"])
def page(request: pytest.FixtureRequest) -> str:
    """The report as a reader sees its text (Markdown escapes and HTML entities undone)."""
    text = render_report(example_manifest(), request.param, today=TODAY)
    if request.param == "html":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return html.unescape(text.replace("\\", ""))


def test_summary_names_every_control_with_its_mappings(page: str) -> None:
    for fact in (
        "restricted-ssh",
        "EC2.13",
        "AWS-GR_RESTRICTED_SSH",
        "CT.EC2.PR.3",
        "CIS 5.2",
        "restricted-common-ports",
        "EC2.14",
        "AWS-GR_RESTRICTED_COMMON_PORTS",
        "CT.EC2.PR.4",
        "ecs-service-public-ip",
        "ECS.2",
        "ecs-readonly-root-filesystem",
        "ECS.5",
        "ecs-taskset-public-ip",
        "ECS.16",
    ):
        assert fact in page, fact


def test_detection_rule_and_parameters_are_shown(page: str) -> None:
    assert "INCOMING_SSH_DISABLED" in page and "RESTRICTED_INCOMING_TRAFFIC" in page
    for key, value in (("blockedPort1", "20"), ("blockedPort3", "3389"), ("blockedPort5", "4333")):
        assert key in page and value in page
    assert "AwsVpcConfiguration.AssignPublicIp" in page  # the Guard policy text of ECS.16


def test_remediation_mode_tuning_and_document_in_plain_words(page: str) -> None:
    doc = example_manifest().document(SG_DOC)
    assert "Automatic: AWS Config runs the fix for every non-compliant resource" in page
    assert "Manual (approval-only)" in page
    assert "Maximum automatic attempts" in page and "Retry window (seconds)" in page
    assert doc.sha256 in page and doc.revokes in page and doc.never_touches in page


def test_role_grants_and_trust_are_in_plain_words(page: str) -> None:
    assert SG_ROLE in page
    assert "the AWS service ssm.amazonaws.com" in page
    assert "the calling service's source account (aws:SourceAccount) is <this account>" in page
    assert "arn:aws:ssm:*:<this account>:automation-execution/*" in page
    assert "ec2:RevokeSecurityGroupIngress" in page and "arn:aws:ec2:*:<this account>:security-group/*" in page
    assert "${AWS::AccountId}" not in page


def test_scope_exclusions_and_exemptions_are_shown(page: str) -> None:
    for fact in (
        "ou-a1b2-workloads",
        "ou-a1b2-sandboxes",
        "us-east-1",
        "eu-west-1",
        "ap-northeast-1",
        "999999999999",
        "Break-glass account, reviewed quarterly by the security team",
        "sg-0123456789abcdef0",
        "network-team@example.com",
        "2027-03-31",
        "orgguard-guardrails-eu-west-1",
        "orgguard-documents",
        "orgguard-protect-governance",
    ):
        assert fact in page, fact
    assert "EXPIRED" not in page


def test_general_coverage_caveats_are_shown(page: str) -> None:
    assert (
        "CT.EC2.PR.3 / CT.EC2.PR.4 are CloudFormation hooks: they never see security groups made by Terraform" in page
    )
    assert "Config rules do nothing without a configuration recorder" in page
    assert "TCP only: UDP exposure is not detected." in page  # the control's own caveat
    assert "already has Control Tower's AWS-GR_RESTRICTED_SSH" in page and "the same finding appears twice" in page


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_a_control_caveat_is_printed_once_from_the_control(fmt: str) -> None:
    """The report reads per-control caveats from the control (via the manifest), and only there: the plan-wide
    list used to repeat the TCP-only, ECS.16 and ECS.5 facts in other words."""
    text = (ROOT / "governance.yaml").read_text()
    manifest = build_plan(parse_governance(text, "governance.yaml"), Path("governance.yaml"), text).manifest
    page = html.unescape(render_report(manifest, fmt)).replace("\\", "")  # markdown escapes
    for control in CATALOG.values():
        if not control.default_enabled:
            continue  # off by default: not in this file's plan (tests/catalog/test_ecs_hardening.py shows theirs)
        for caveat in control.caveats:
            assert caveat in page, caveat
    for fact in ("checks TCP only", "UpdateTaskSet changes only the scale, so", "evaluates only the latest active"):
        assert page.count(fact) == 1, f"{fact!r} printed {page.count(fact)} times"
    assert not [line for line in general_caveats(manifest) if "ECS." in line or "TCP only" in line]


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_expired_exemption_is_flagged(fmt: str) -> None:
    text = render_report(example_manifest(), fmt, today=dt.date(2027, 4, 1))
    assert "EXPIRED" in text
    assert "1 exemption(s) have EXPIRED" in text


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_disabled_control_is_marked_in_summary(fmt: str) -> None:
    m = mutate(example_manifest(), lambda d: d["controls"][1].update(enabled=False))
    text = render_report(m, fmt, today=TODAY)
    assert "NO (disabled)" in text and "DISABLED: nothing below is deployed" in text


def test_markdown_escapes_table_breaking_and_html_text() -> None:
    hostile = "Ops | <script>alert(1)</script> *team*"
    m = mutate(example_manifest(), lambda d: d["organization"]["excluded_accounts"][0].update(reason=hostile))
    text = render_report(m, "markdown", today=TODAY)
    assert "<script>" not in text
    assert "Ops \\| &lt;script&gt;alert(1)&lt;/script&gt; \\*team\\*" in text


def test_html_is_self_contained_and_escaped() -> None:
    hostile = '"><script>alert(1)</script><img src="http://evil.example/x.png">'
    m = mutate(example_manifest(), lambda d: d["controls"][0].update(title=hostile))
    text = render_report(m, "html", today=TODAY)
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert "<style>" in text and "@media print" in text


def test_missing_role_or_document_is_reported_as_a_plan_problem() -> None:
    m = mutate(example_manifest(), lambda d: d["controls"][0]["remediation"].update(role="orgguard-ghost"))
    text = render_report(m, "markdown", today=TODAY)
    assert "remediation role orgguard-ghost is not in the manifest's roles" in text
