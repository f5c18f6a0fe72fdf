"""Render a report for humans (table, Markdown) and machines (JSON, JUnit XML for CI dashboards)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Literal

from orgguard.verify.result import CheckResult, VerifyReport

Format = Literal["table", "json", "junit", "markdown"]
FORMATS: tuple[str, ...] = ("table", "json", "junit", "markdown")
_COLUMNS = ("status", "account/OU", "region", "check", "control", "detail")


def _short(value: object, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _detail(r: CheckResult) -> str:
    if r.status == "PASS":
        return ""
    if r.reason:
        return r.reason
    return f"expected {_short(r.expected, 60)}, got {_short(r.actual, 60)}"


def _rows(report: VerifyReport) -> list[tuple[str, ...]]:
    return [(r.status, r.account_id, r.region, r.check, r.control or "-", _detail(r)) for r in report.results]


def _summary(report: VerifyReport) -> str:
    c = report.counts()
    return f"{len(report.results)} checks: {c['PASS']} passed, {c['FAIL']} failed, {c['UNVERIFIED']} unverified"


def render_table(report: VerifyReport) -> str:
    rows = [_COLUMNS, *[(*row[:5], _short(row[5])) for row in _rows(report)]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows
    ]
    return "\n".join([*(line.rstrip() for line in lines), "", _summary(report)]) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: VerifyReport) -> str:
    head = "| " + " | ".join(_COLUMNS) + " |\n|" + "---|" * len(_COLUMNS) + "\n"
    body = "".join("| " + " | ".join(_md(c) for c in row) + " |\n" for row in _rows(report))
    return f"## orgguard verify\n\n{_summary(report)}\n\n{head}{body}"


def to_dict(r: CheckResult) -> dict[str, Any]:
    return {
        "check": r.check,
        "control": r.control,
        "account_id": r.account_id,
        "region": r.region,
        "status": r.status,
        "expected": r.expected,
        "actual": r.actual,
        "reason": r.reason,
    }


def render_json(report: VerifyReport) -> str:
    payload = {
        "summary": {**report.counts(), "total": len(report.results), "exit_code": report.exit_code()},
        "results": [to_dict(r) for r in report.results],
    }
    return json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"


def render_junit(report: VerifyReport) -> str:
    """One testsuite per check kind, one testcase per check, control, account and region."""
    c = report.counts()
    root = ET.Element(
        "testsuites",
        name="orgguard verify",
        tests=str(len(report.results)),
        failures=str(c["FAIL"]),
        skipped=str(c["UNVERIFIED"]),
        errors="0",
    )
    suites: dict[str, list[CheckResult]] = {}
    for r in report.results:
        suites.setdefault(r.check.split(":", 1)[0], []).append(r)
    for name, items in sorted(suites.items()):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(items)),
            failures=str(sum(r.status == "FAIL" for r in items)),
            skipped=str(sum(r.status == "UNVERIFIED" for r in items)),
            errors="0",
        )
        for r in items:
            label = f"{r.check}[{r.control}]" if r.control else r.check
            case = ET.SubElement(suite, "testcase", classname=f"{r.account_id}.{r.region}", name=label)
            if r.status == "FAIL":
                node = ET.SubElement(case, "failure", message=_short(r.reason or "differs", 500), type="FAIL")
                node.text = f"expected: {_short(r.expected, 4000)}\nactual: {_short(r.actual, 4000)}"
            elif r.status == "UNVERIFIED":
                ET.SubElement(case, "skipped", message=_short(f"UNVERIFIED: {r.reason}", 500))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render(report: VerifyReport, fmt: Format) -> str:
    renderers = {"table": render_table, "json": render_json, "junit": render_junit, "markdown": render_markdown}
    return renderers[fmt](report)
