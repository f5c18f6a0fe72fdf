"""Stacks carry their apply order: global before the management account's stacks before the regions.

Before, nothing ordered them: the manifest had no depends_on and cdktf's manifest listed no dependency,
so `cdktf deploy` (or a pipeline reading the manifest) could apply a regional pack before the StackSets
that put its documents and roles into the member accounts."""

from __future__ import annotations

import json
from pathlib import Path

from orgguard.manifest import load_manifest
from orgguard.synth.build import MANIFEST_FILE, synthesize
from tests.synth.conftest import variant

GLOBAL, MANAGEMENT = "orgguard-org-global", "orgguard-org-management"
REGIONS = ["orgguard-org-us-east-1", "orgguard-org-eu-west-1", "orgguard-org-ap-northeast-1"]


def test_manifest_orders_global_then_management_then_regions(org_manifest) -> None:
    order = {s.name: s.depends_on for s in org_manifest.stacks}
    assert order[GLOBAL] == []
    assert order[MANAGEMENT] == [GLOBAL]
    for region in REGIONS:
        assert order[region] == [GLOBAL, MANAGEMENT]


def test_cdktf_manifest_declares_the_same_dependencies(org_out: Path, org_manifest) -> None:
    cdktf = json.loads((org_out / "manifest.json").read_text())["stacks"]
    for entry in org_manifest.stacks:
        assert sorted(cdktf[entry.name]["dependencies"]) == sorted(entry.depends_on), entry.name


def test_the_order_is_a_valid_apply_sequence(org_manifest) -> None:
    names = [s.name for s in org_manifest.stacks]
    applied: set[str] = set()
    for entry in org_manifest.stacks:  # the manifest lists stacks in an order that satisfies depends_on
        assert set(entry.depends_on) <= applied, f"{entry.name} listed before {entry.depends_on}"
        assert set(entry.depends_on) <= set(names)
        applied.add(entry.name)


def test_without_a_management_stack_regions_wait_for_global_only(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["organization"].pop("delegated_admin_account_id", None)

    manifest = synthesize(variant(tmp_path, "mgmt.yaml", edit), tmp_path / "out")
    order = {s.name: s.depends_on for s in manifest.stacks}
    assert MANAGEMENT not in order
    assert all(order[r] == [GLOBAL] for r in REGIONS) and order[GLOBAL] == []


def test_account_stacks_are_independent(account_out: Path) -> None:
    manifest = load_manifest(account_out / MANIFEST_FILE)
    assert manifest.stacks and all(s.depends_on == [] for s in manifest.stacks)
    cdktf = json.loads((account_out / "manifest.json").read_text())["stacks"]
    assert all(entry["dependencies"] == [] for entry in cdktf.values())
