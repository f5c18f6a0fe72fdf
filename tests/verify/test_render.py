"""Output formats and exit codes: parseable by machines, readable by humans, honest about UNVERIFIED."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from orgguard.verify import CheckResult, VerifyReport, render

RESULTS = [
    CheckResult("config-recorder", None, "210000000001", "us-east-1", "PASS"),
    CheckResult(
        "remediation",
        "restricted-ssh",
        "210000000001",
        "us-east-1",
        "FAIL",
        expected={"document": "a"},
        actual=None,
        reason="no remediation bound to rule x | y",
    ),
    CheckResult("config-rule", "restricted-ssh", "210000000002", "eu-west-1", "UNVERIFIED", reason="access denied"),
]


def test_exit_code_distinguishes_pass_fail_unverified_and_empty() -> None:
    assert VerifyReport(RESULTS[:1]).exit_code() == 0
    assert VerifyReport(RESULTS).exit_code() == 1
    assert VerifyReport([RESULTS[0], RESULTS[2]]).exit_code() == 3
    assert VerifyReport([]).exit_code() == 3  # nothing checked is not proof of anything


def test_junit_has_one_testcase_per_check_with_failure_and_skipped() -> None:
    root = ET.fromstring(render(VerifyReport(RESULTS), "junit"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 3
    by_name = {(c.get("classname"), c.get("name")): c for c in cases}
    failed = by_name[("210000000001.us-east-1", "remediation[restricted-ssh]")]
    assert failed.find("failure") is not None
    assert "no remediation bound" in failed.find("failure").get("message", "")
    skipped = by_name[("210000000002.eu-west-1", "config-rule[restricted-ssh]")]
    assert "access denied" in skipped.find("skipped").get("message", "")
    passed = by_name[("210000000001.us-east-1", "config-recorder")]
    assert list(passed) == []


def test_json_round_trips_every_field_and_the_summary() -> None:
    data = json.loads(render(VerifyReport(RESULTS), "json"))
    assert data["summary"] == {"PASS": 1, "FAIL": 1, "UNVERIFIED": 1, "total": 3, "exit_code": 1}
    assert data["results"][1]["expected"] == {"document": "a"}
    assert data["results"][2]["reason"] == "access denied"


def test_markdown_escapes_pipes_and_keeps_one_row_per_result() -> None:
    text = render(VerifyReport(RESULTS), "markdown")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 3
    assert "x \\| y" in text
    assert all(line.count(" | ") == 5 for line in rows)  # six columns, no stray pipe


def test_table_lists_every_result_and_the_summary() -> None:
    text = render(VerifyReport(RESULTS), "table")
    assert "3 checks: 1 passed, 1 failed, 1 unverified" in text
    assert "UNVERIFIED" in text and "access denied" in text
