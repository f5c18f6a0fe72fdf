"""Text a reviewer reads in the report (owners, reasons, expiry dates) means what it shows (review item 14):
before, ESC and U+202E went raw into the report, a 1 MB reason was accepted, and a date-time expiry was
silently cut to its date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from orgguard.config.load import ConfigError, parse_governance

ROOT = Path(__file__).resolve().parents[2]


def governance(edit: Any) -> str:
    data = yaml.safe_load((ROOT / "governance.yaml").read_text())
    edit(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def exemption(data: dict[str, Any]) -> dict[str, Any]:
    return data["exemptions"]["known"][0]


def refused(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_governance(text, "g.yaml")
    return exc.value.problems


@pytest.mark.parametrize(
    ("edit", "where", "words"),
    [
        (lambda d: exemption(d).update(reason="ok \u202egnp.exe"), "exemptions.known[0].reason", "U+202E"),
        (lambda d: exemption(d).update(owner="\x1b[8mroot\x1b[0m"), "exemptions.known[0].owner", "U+001B"),
        (lambda d: exemption(d).update(reason="x" * 501), "exemptions.known[0].reason", "500"),
        (
            lambda d: d["organization"]["excluded_accounts"][0].update(reason="y" * 900_000),
            "organization.excluded_accounts[0].reason",
            "500",
        ),
        (
            lambda d: d["organization"]["excluded_accounts"][0].update(reason="break\u200bglass"),
            "organization.excluded_accounts[0].reason",
            "U+200B",
        ),
        (lambda d: exemption(d).update(expires="2027-03-31T00:00:00Z"), "exemptions.known[0].expires", "YYYY-MM-DD"),
        (lambda d: exemption(d).update(expires="2027-03-31 12:00"), "exemptions.known[0].expires", "YYYY-MM-DD"),
    ],
    ids=["rlo-reason", "esc-owner", "long-reason", "long-exclusion", "zero-width", "datetime", "datetime-space"],
)
def test_misleading_text_is_refused_in_one_short_line(edit: Any, where: str, words: str) -> None:
    problems = refused(governance(edit))
    assert len(problems) == 1, problems
    assert where in problems[0] and words in problems[0] and len(problems[0]) < 400, problems[0]


def test_unquoted_yaml_datetime_is_refused() -> None:
    """YAML reads an unquoted 2027-03-31T00:00:00Z as a timestamp, not a string."""
    text = governance(lambda d: None).replace('expires: "2027-03-31"', "expires: 2027-03-31T00:00:00Z")
    text = text.replace("expires: '2027-03-31'", "expires: 2027-03-31T00:00:00Z")
    assert "2027-03-31T00:00:00Z" in text
    problems = refused(text)
    assert len(problems) == 1 and "expires" in problems[0] and "YYYY-MM-DD" in problems[0], problems


def test_plain_text_and_dates_still_load() -> None:
    gov = parse_governance(
        governance(lambda d: exemption(d).update(reason="Ünïcode reason — fine", expires="2027-01-02"))
    )
    assert gov.exemptions.known[0].reason == "Ünïcode reason — fine"
