"""exemptions.known through the real CLI: careless entries refused in one line each, lapsed ones warned about,
and the approved list reaching the synthesized document (so its hash moves with it)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.synth.conftest import ACCOUNT_EXAMPLE, run_cli, variant

SG = "sg-0123456789abcdef0"


def _known(*entries: dict[str, Any]) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["exemptions"]["known"] = list(entries)

    return edit


def _entry(**over: Any) -> dict[str, Any]:
    base = {"account_id": "333333333333", "security_group_id": SG, "owner": "net@example.com", "reason": "sftp"}
    return {**base, "expires": "2030-01-31", **over}


def _synth(tmp: Path, name: str, edit: Any) -> tuple[Any, Path]:
    out = tmp / f"{name}.out"
    return run_cli("synth", "--config", str(variant(tmp, f"{name}.yaml", edit)), "--out", str(out)), out


@pytest.mark.parametrize(
    ("name", "edit", "line"),
    [
        ("twice", _known(_entry(), _entry(reason="again")), f"exemptions.known[1]: {SG} in 333333333333 is already"),
        ("ssm-reference", _known(_entry(owner="{{ GroupId }}")), "exemptions.known[0].owner: "),
        ("ticket-reference", _known(_entry(ticket="CHG-{{x}}")), "exemptions.known[0].ticket: "),
        ("bad-date", _known(_entry(expires="2030-02-30")), "exemptions.known[0].expires: "),
    ],
)
def test_careless_exemptions_are_refused_with_one_line_each(tmp_path: Path, name: str, edit: Any, line: str) -> None:
    result, out = _synth(tmp_path, name, edit)

    assert result.returncode == 2, result.stderr
    problems = [ln for ln in result.stderr.splitlines() if "exemptions.known" in ln]
    assert len(problems) == 1 and line in problems[0], result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_a_lapsed_exemption_is_one_warning_line_and_still_synthesizes(tmp_path: Path) -> None:
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    result, _ = _synth(
        tmp_path, "lapsed", _known(_entry(expires=yesterday), _entry(security_group_id="sg-0aaaaaaaaaaaaaaaa"))
    )

    assert result.returncode == 0, result.stderr
    (warning,) = [ln for ln in result.stderr.splitlines() if "warning" in ln and "exemptions.known" in ln]
    assert f"exemptions.known[0].expires: {yesterday} has passed (UTC)" in warning and "remove" in warning


def test_the_approved_list_is_in_the_document_and_changing_it_changes_the_hash(tmp_path: Path) -> None:
    runs = {}
    for name, edit in (("one", _known(_entry(ticket="CHG-1"))), ("none", _known())):
        result, out = _synth(tmp_path, name, edit)
        assert result.returncode == 0, result.stderr
        manifest = json.loads((out / "orgguard-manifest.json").read_text())
        (doc,) = [d for d in manifest["documents"] if d["runbook"] == "sg-revoke"]
        content = json.loads((out / doc["content_file"]).read_text())
        runs[name] = (doc["sha256"], content["mainSteps"][0]["inputs"]["InputPayload"]["ApprovedExemptions"], manifest)

    assert runs["one"][1] == [
        {"account_id": "333333333333", "security_group_id": SG, "expires": "2030-01-31", "owner": "net@example.com",
         "ticket": "CHG-1"}
    ]  # fmt: skip
    assert runs["none"][1] == []
    assert runs["one"][0] != runs["none"][0]
    assert runs["one"][2]["exemptions"][0]["ticket"] == "CHG-1"


def test_in_account_mode_an_exemption_for_an_account_without_a_stack_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    data["exemptions"]["known"] = [_entry(account_id="555555555555")]
    config = tmp_path / "vending.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))

    result = run_cli("synth", "--config", str(config), "--out", str(tmp_path / "out"))

    assert result.returncode == 2
    (line,) = [ln for ln in result.stderr.splitlines() if "exemptions.known" in ln]
    assert "exemptions.known[0].account_id: 555555555555 is not one of accounts" in line
