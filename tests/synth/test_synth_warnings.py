"""Synth's one-line warnings (review item 15): the default file sets a delegated administrator, and with the
pinned 5.x provider its first pack apply times out (docs/operators.md, Provider). Before, synth said nothing."""

from __future__ import annotations

from pathlib import Path

from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE, run_cli, variant


def _warnings(result, needle: str) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if needle in line]


def test_a_delegated_administrator_with_the_pinned_provider_gets_one_warning_line(tmp_path: Path) -> None:
    result = run_cli("synth", "--config", str(EXAMPLE), "--out", str(tmp_path / "out"))
    lines = _warnings(result, "delegated_admin_account_id")
    assert len(lines) == 1, result.stderr
    assert "#47072" in lines[0] and "docs/operators.md" in lines[0] and len(lines[0]) < 500


def test_no_warning_without_a_delegated_administrator_or_without_packs(tmp_path: Path) -> None:
    def management_only(data: dict) -> None:
        data["organization"].pop("delegated_admin_account_id", None)

    config = variant(tmp_path, "mgmt.yaml", management_only)
    assert _warnings(run_cli("synth", "--config", str(config), "--out", str(tmp_path / "a")), "#47072") == []
    # Account mode deploys no organization pack, so the waiter is never involved.
    accounts = run_cli("synth", "--config", str(ACCOUNT_EXAMPLE), "--out", str(tmp_path / "b"))
    assert _warnings(accounts, "#47072") == []
