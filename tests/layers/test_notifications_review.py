"""The report words notifications plainly (HTML and text), and the diff flags every change that silences someone
or sends findings somewhere new."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orgguard.layers.notifications.entry import Subscription
from orgguard.layers.notifications.review import masked
from orgguard.manifest import Manifest
from orgguard.review.diff import WEAKENED, WIDENED, diff_manifests
from orgguard.synth.build import MANIFEST_FILE, synthesize
from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE, run_cli

BASE = {"account_id": "444444444444", "email": ["secops@example.com", "oncall@example.org"]}


def _plan(tmp: Path, name: str, notifications: dict | None) -> tuple[Manifest, Path]:
    data = yaml.safe_load(EXAMPLE.read_text())
    if notifications is not None:
        data["notifications"] = notifications
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp / name
    return synthesize(path, out), out / MANIFEST_FILE


def _plan_account(tmp: Path) -> tuple[Manifest, Path]:
    data = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    data["notifications"] = BASE
    path = tmp / "account.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return synthesize(path, tmp / "account"), tmp / "account" / MANIFEST_FILE


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Manifest, Path]]:
    tmp = tmp_path_factory.mktemp("notify-review")
    return {
        "off": _plan(tmp, "off", None),
        "on": _plan(tmp, "on", BASE),
        "fewer": _plan(tmp, "fewer", {**BASE, "email": ["secops@example.com"]}),
        "moved": _plan(tmp, "moved", {**BASE, "account_id": "555555555555"}),
        "hook": _plan(tmp, "hook", {**BASE, "https": ["https://collector.example.net/in"]}),
        "secret": _plan(tmp, "secret", {**BASE, "https": ["https://hooks.example.net:8443/T0K3N/in?key=s3cr3t"]}),
        "account": _plan_account(tmp),
    }


def _flags(old: Manifest, new: Manifest) -> list[tuple[str, str]]:
    return [(f.kind, f.detail) for f in diff_manifests(old, new).flags if f.subject == "notifications"]


def test_removing_notifications_is_a_flagged_weakening(plans) -> None:
    ((kind, detail),) = _flags(plans["on"][0], plans["off"][0])
    assert kind == WEAKENED and "no longer reach orgguard-findings in 444444444444" in detail


def test_removing_a_subscriber_is_flagged_and_names_them_masked(plans) -> None:
    ((kind, detail),) = _flags(plans["on"][0], plans["fewer"][0])
    assert kind == WEAKENED and "o…@example.org" in detail and "oncall@" not in detail


def test_moving_the_central_account_is_flagged(plans) -> None:
    flags = _flags(plans["on"][0], plans["moved"][0])
    assert (WEAKENED, "central bus moved from 444444444444 (us-east-1) to 555555555555 (us-east-1): findings no "
            "longer reach the old bus and topic") in flags


def test_a_new_https_endpoint_is_flagged_as_findings_sent_somewhere_new(plans) -> None:
    ((kind, detail),) = _flags(plans["on"][0], plans["hook"][0])
    assert kind == WIDENED and "https://collector.example.net/…" in detail


def test_adding_notifications_with_email_only_is_a_change_not_a_flag(plans) -> None:
    diff = diff_manifests(plans["off"][0], plans["on"][0])
    assert _flags(plans["off"][0], plans["on"][0]) == []
    assert any(c.area == "notifications" and "added" in c.detail for c in diff.changes)


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_report_says_what_is_notified_what_is_not_and_that_email_waits_for_confirmation(plans, fmt) -> None:
    manifest_path = plans["on"][1]
    result = run_cli("report", "--manifest", str(manifest_path), "--format", fmt)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Notifications: findings and failed remediations" in text
    assert "Notified" in text and "Not notified" in text
    assert "COMPLIANT for a resource" in text and "Failed, TimedOut or Cancelled" in text
    assert "change of compliance only" in text and "best-effort" in text
    assert "until they click" in text
    assert "s…@example.com" in text and "secops@example.com" not in text  # personal data masked in the report


def test_a_report_without_notifications_has_no_such_section(plans) -> None:
    result = run_cli("report", "--manifest", str(plans["off"][1]), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "Notifications:" not in result.stdout and "Notified" not in result.stdout


def _text(manifest_path: Path, fmt: str = "markdown") -> str:
    result = run_cli("report", "--manifest", str(manifest_path), "--format", fmt)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_report_shows_an_https_endpoint_s_host_and_port_only(plans, fmt) -> None:
    """Before: only the path was cut, so https://user:pw@host or https://host?token=... showed in full."""
    text = _text(plans["secret"][1], fmt)
    assert "https://hooks.example.net:8443/…" in text
    assert "T0K3N" not in text and "s3cr3t" not in text
    sub = Subscription(protocol="https", endpoint="https://user:pw@hooks.example.net?token=s3cr3t")
    assert masked(sub) == "https://hooks.example.net/…"


def test_the_report_says_who_the_scp_binds_in_organization_mode(plans) -> None:
    """Before: "(SCP) only through each account's forwarding role" for every account, in every mode."""
    text = _text(plans["on"][1])
    assert "In accounts under the target OUs (" in text and "which the SCP binds" in text
    assert "outside those OUs, and the management account (no SCP applies to it), can put events there" in text
    assert "Only rules of a conformance pack (service-linked" in text


def test_the_report_says_account_mode_has_no_scp_over_the_member_rules(plans) -> None:
    text = _text(plans["account"][1])
    assert "Account mode creates no SCP" in text and "unless the vending pipeline attaches an SCP" in text
    assert "which the SCP binds" not in text and "forwards rules by their exact names" in text


def test_the_report_says_finding_text_comes_from_the_member_and_failed_runs_can_be_flooded(plans) -> None:
    text = _text(plans["on"][1])
    assert "The text of a finding comes from the member account" in text
    assert "failed-run notifications can be flooded" in text
    assert "kept in full in the manifest and in Terraform state" in text
