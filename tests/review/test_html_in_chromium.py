"""The HTML review rendered by real headless Chromium: the key facts are on the page, and a screenshot."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orgguard.review.approval import Approval, evaluate_gate
from orgguard.review.diff import diff_manifests
from orgguard.review.render import render_report

from .factory import SG_ROLE, control, example_manifest, mutate, role

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent: apt-get install -y chromium")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=180
    )


def risky(d: dict[str, Any]) -> None:
    control(d, "restricted-ssh")["enabled"] = False
    role(d, SG_ROLE)["permission_policies"]["revoke"]["Statement"][1]["Resource"] = "*"


def test_review_page_renders_key_facts_in_chromium(tmp_path: Path) -> None:
    previous, current = example_manifest(), mutate(example_manifest(), risky)
    diff = diff_manifests(previous, current)
    approval = Approval(manifest_sha256=current.sha256(), approved_by="alice@example.com", reason="CHG-1234")
    gate = evaluate_gate(diff, approval, today=dt.date(2026, 6, 1))
    page = tmp_path / "review.html"
    page.write_text(render_report(current, "html", diff=diff, gate=gate, today=dt.date(2026, 6, 1)))

    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    for fact in (
        current.sha256(),
        "GATE PASSED",
        "⚠ CONTROL DISABLED",
        "⚠ WIDENED PERMISSION",
        "ec2:RevokeSecurityGroupIngress now on *",
        "EC2.13",
        "AWS-GR_RESTRICTED_COMMON_PORTS",
        "ECS.16",
        "CT.EC2.PR.3 / CT.EC2.PR.4 are CloudFormation hooks",
        "TCP only: UDP exposure is not detected.",  # the control's own caveat
        "network-team@example.com",
        "Break-glass account",
        "ssm.amazonaws.com",
    ):
        assert fact in text, fact

    shot = tmp_path / "review.png"
    done = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")
