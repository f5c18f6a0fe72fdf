"""The report warns loudly where a member account could switch the guardrails off, or an exemption outlives any
review (review item 14): before, a plan without an SCP said so in one quiet sentence at the end."""

from __future__ import annotations

import datetime as dt
from typing import Any

from orgguard.review.render import render_report
from orgguard.review.view import NO_SCP, build_view

from .factory import example_manifest, mutate

TODAY = dt.date(2026, 6, 1)


def warnings(edit: Any = None) -> list[str]:
    manifest = mutate(example_manifest(), edit) if edit else example_manifest()
    return build_view(manifest, today=TODAY).warnings


def exempt(d: dict[str, Any], patterns: list[str]) -> None:
    for part in d["scp"]["policies"]:
        for st in part["policy"]["Statement"]:
            st["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = patterns


def test_no_scp_is_a_loud_warning_in_both_formats() -> None:
    manifest = mutate(example_manifest(), lambda d: d.update(scp=None))
    assert NO_SCP in build_view(manifest, today=TODAY).warnings
    md = render_report(manifest, "markdown", today=TODAY)
    html = render_report(manifest, "html", today=TODAY)
    assert "**⚠ NO SCP PROTECTS THE GUARDRAILS" in md
    assert "<strong>⚠ NO SCP PROTECTS THE GUARDRAILS" in html
    assert NO_SCP not in warnings()


def test_broad_and_lza_exempt_patterns_are_named() -> None:
    found = warnings(
        lambda d: exempt(
            d,
            [
                "arn:aws:iam::*:role/stacksets-exec-*",
                "arn:aws:iam::*:role/Admin-pipeline*",
                "arn:aws:iam::*:role/AWSAccelerator-*",
            ],
        )
    )
    assert any("arn:aws:iam::*:role/Admin-pipeline*" in w and "every existing role" in w for w in found)
    assert any("Landing Zone Accelerator roles are exempt" in w for w in found)
    assert not any("stacksets-exec" in w for w in found)


def test_scp_without_stop_automation_deny_is_warned() -> None:
    assert any("may stop remediation runs" in w for w in warnings())

    def add(d: dict[str, Any]) -> None:
        d["scp"]["policies"][0]["policy"]["Statement"][0]["Action"].append("ssm:StopAutomationExecution")

    assert not any("may stop remediation runs" in w for w in warnings(add))


def test_far_future_exemption_is_warned() -> None:
    def far(d: dict[str, Any]) -> None:
        d["exemptions"][0]["expires"] = "9999-12-31"

    assert any("expires 9999-12-31, more than two years ahead" in w for w in warnings(far))
    assert not any("more than two years" in w for w in warnings())
