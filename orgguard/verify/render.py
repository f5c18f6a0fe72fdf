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
        return r.reason  # empty except where a passing check has something to show (VPC BPA exclusions)
    if r.reason:
        return r.reason
    return f"expected {_short(r.expected, 60)}, got {_short(r.actual, 60)}"


def _rows(report: VerifyReport) -> list[tuple[str, ...]]:
    return [(r.status, r.account_id, r.region, r.check, r.control or "-", _detail(r)) for r in report.results]


def evidence_lines(report: VerifyReport) -> list[str]:
    """Which plan and approval the run checked, in words (table and Markdown headers)."""
    ev = report.evidence
    if ev is None:
        return []
    lines = [f"manifest {ev.manifest_sha256} ({ev.manifest_file}), checked {ev.checked_at} by {ev.verifier_version}"]
    if ev.approval is None:
        lines.append("approval: NONE - this run is not bound to an approved plan")
    else:
        a = ev.approval
        when = f" at {a.approved_at}" if a.approved_at else ""
        lines.append(f"approval: by {a.approved_by}{when} ({a.reason}); file {a.file} sha256 {a.file_sha256}")
    return lines


def _summary(report: VerifyReport) -> str:
    c = report.counts()
    return f"{len(report.results)} checks: {c['PASS']} passed, {c['FAIL']} failed, {c['UNVERIFIED']} unverified"


def render_table(report: VerifyReport) -> str:
    rows = [_COLUMNS, *[(*row[:5], _short(row[5])) for row in _rows(report)]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows
    ]
    head = [*evidence_lines(report), ""] if report.evidence else []
    return "\n".join([*head, *(line.rstrip() for line in lines), "", _summary(report)]) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: VerifyReport) -> str:
    head = "| " + " | ".join(_COLUMNS) + " |\n|" + "---|" * len(_COLUMNS) + "\n"
    body = "".join("| " + " | ".join(_md(c) for c in row) + " |\n" for row in _rows(report))
    bound = "".join(f"- {_md(line)}\n" for line in evidence_lines(report))
    bound = f"{bound}\n" if bound else ""
    return f"## orgguard verify\n\n{bound}{_summary(report)}\n\n{head}{body}"


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
        "summary": {**report.counts(), "total": len(report.results), "exit_code": int(report.exit_code())},
        "evidence": report.evidence.to_dict() if report.evidence else None,
        "results": [to_dict(r) for r in report.results],
    }
    return json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"


def _evidence_properties(report: VerifyReport) -> list[tuple[str, str]]:
    """JUnit properties naming the plan and approval the run was checked against (evidence for auditors)."""
    ev = report.evidence
    if ev is None:
        return []
    props = [
        ("orgguard.manifest.sha256", ev.manifest_sha256),
        ("orgguard.manifest.file", ev.manifest_file),
        ("orgguard.manifest.file_sha256", ev.manifest_file_sha256),
        ("orgguard.config.sha256", ev.config_sha256),
        ("orgguard.checked_at", ev.checked_at),
        ("orgguard.verifier", ev.verifier_version),
    ]
    if ev.approval is None:
        return [*props, ("orgguard.approval", "none: not bound to an approved plan")]
    a = ev.approval
    props += [
        ("orgguard.approval.file", a.file),
        ("orgguard.approval.file_sha256", a.file_sha256),
        ("orgguard.approval.manifest_sha256", a.manifest_sha256),
        ("orgguard.approval.approved_by", a.approved_by),
        ("orgguard.approval.reason", a.reason),
    ]
    props += [(f"orgguard.approval.{k}", v) for k, v in (("approved_at", a.approved_at), ("expires", a.expires)) if v]
    return props


def render_junit(report: VerifyReport) -> str:
    """One testsuite per check kind, one testcase per check, control, account and region; every testsuite
    carries the evidence properties (readers differ on which level they show)."""
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
    props = _evidence_properties(report)
    if props and not suites:
        suites["orgguard"] = []
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
        if props:
            node = ET.SubElement(suite, "properties")
            for key, value in props:
                ET.SubElement(node, "property", name=key, value=value)
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
