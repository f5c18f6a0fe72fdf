"""Exemptions in the review: added and extended ones are flagged at the gate, removed and shortened ones listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from orgguard.manifest import Manifest
from orgguard.review.approval import Approval, evaluate_gate
from orgguard.review.diff import EXEMPTION, ManifestDiff, diff_manifests
from orgguard.review.render import render_report

from .factory import example_manifest, mutate

TODAY = dt.date(2026, 6, 1)
SG = "sg-0123456789abcdef0"


def _changed(edit: Any) -> tuple[Manifest, ManifestDiff]:
    new = mutate(example_manifest(), edit)
    return new, diff_manifests(example_manifest(), new)


def _entry(d: dict[str, Any]) -> dict[str, Any]:
    return d["exemptions"][0]


def test_an_added_exemption_with_a_ticket_is_flagged_and_the_gate_refuses_it_unapproved() -> None:
    extra = dict(_entry(example_manifest().model_dump(mode="json")), security_group_id="sg-0aaaaaaaaaaaaaaaa")
    new, diff = _changed(lambda d: d["exemptions"].append(dict(extra, ticket="RISK-9")))

    (flag,) = [f for f in diff.flags if f.kind == EXEMPTION]
    assert flag.subject == "sg-0aaaaaaaaaaaaaaaa in 333333333333" and "ticket RISK-9" in flag.detail
    gate = evaluate_gate(diff, None, today=TODAY)
    assert not gate.passed and flag in gate.refused_flags
    approval = Approval(manifest_sha256=new.sha256(), approved_by="ciso@example.com", reason="risk accepted")
    assert evaluate_gate(diff, approval, today=TODAY).passed


def test_an_extended_exemption_is_flagged_with_both_dates() -> None:
    _, diff = _changed(lambda d: _entry(d).update(expires="2028-03-31"))

    (flag,) = diff.flags
    assert flag.kind == EXEMPTION and "from 2027-03-31 to 2028-03-31" in flag.detail


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["exemptions"].clear(), "exemption removed: remediated again"),
        (lambda d: _entry(d).update(expires="2026-12-31"), "expires 2027-03-31 → 2026-12-31"),
        (lambda d: _entry(d).update(ticket="CHG-1"), "ticket (none) → CHG-1"),
        (lambda d: _entry(d).update(owner="sec@example.com"), "owner network-team@example.com → sec@example.com"),
    ],
)
def test_removed_shortened_or_reworded_exemptions_are_listed_not_flagged(edit: Any, words: str) -> None:
    new, diff = _changed(edit)

    assert diff.flags == []
    (change,) = [c for c in diff.changes if c.area == "exemption"]
    assert change.subject == f"{SG} in 333333333333" and words in change.detail
    assert words.split(" → ")[0].split(": ")[-1] in render_report(new, "markdown", diff=diff, today=TODAY)


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_report_says_only_approved_exemptions_count_and_shows_the_ticket(fmt: str) -> None:
    manifest = mutate(example_manifest(), lambda d: _entry(d).update(ticket="CHG-77"))

    text = render_report(manifest, fmt, today=TODAY)

    assert "CHG-77" in text and "never exempts" in text and "Expires (UTC, inclusive)" in text
