"""Control Tower detective controls on the target OUs: enabled as the plan says, then drift caught."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox
from orgguard.synth.build import synthesize
from orgguard.verify import verify

from .org_deploy import ROOT, deploy_org, restore_env, use_sandbox_env


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Manifest, Path]]:
    work = tmp_path_factory.mktemp("control-tower")
    with Sandbox(work / "sandbox") as sb:
        previous = use_sandbox_env(sb)
        try:
            data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
            data["control_tower"] = {"enable_detective_controls": True}
            config = work / "governance.yaml"
            config.write_text(yaml.safe_dump(data, sort_keys=False))
            manifest = synthesize(config, work / "out")
            deploy_org(sb, manifest, work / "out")
            # What aws_controltower_control does: EnableControl from the management account, home region;
            # a control the landing zone already has (the sandbox starts with one) is adopted, not enabled again.
            ct = sb.session(None, manifest.organization.home_region).client("controltower")
            for control in manifest.control_tower:
                enabled = ct.list_enabled_controls(
                    targetIdentifier=control.target_identifier,
                    filter={"controlIdentifiers": [control.control_identifier]},
                )["enabledControls"]
                if not enabled:
                    ct.enable_control(
                        controlIdentifier=control.control_identifier, targetIdentifier=control.target_identifier
                    )
            yield sb, manifest, work / "out"
        finally:
            restore_env(previous)


def _control_tower_results(sb: Sandbox, manifest: Manifest, out: Path) -> list:
    report = verify(manifest, session=sb.session(), workers=8, progress=False, manifest_dir=out)
    return [r for r in report.results if r.check.startswith("control-tower:")]


def test_plan_enables_both_detective_controls_on_every_target_ou(governed) -> None:
    manifest = governed[1]
    pairs = {(c.for_control, c.target_identifier.rsplit("/", 1)[-1]) for c in manifest.control_tower}
    names = {"restricted-ssh", "restricted-common-ports"}  # AWS-GR_RESTRICTED_SSH / _COMMON_PORTS
    assert pairs == {(n, ou) for n in names for ou in manifest.organization.target_ous}


def test_enabled_controls_verify_as_pass(governed) -> None:
    results = _control_tower_results(*governed)
    assert len(results) == len(governed[1].control_tower)
    assert all(r.status == "PASS" for r in results), [r.reason for r in results if r.status != "PASS"]


def test_a_drifted_control_fails_its_own_check_only(governed) -> None:
    sb, manifest, out = governed
    entry = manifest.control_tower[0]
    ct = sb.session(None, manifest.organization.home_region).client("controltower")
    # Filtered by the plan's identifier: the sandbox lists the control under whichever form enabled it.
    enabled = ct.list_enabled_controls(
        targetIdentifier=entry.target_identifier, filter={"controlIdentifiers": [entry.control_identifier]}
    )["enabledControls"]
    [arn] = [c["arn"] for c in enabled]
    sb.set_control_drift(arn)
    failed = [r for r in _control_tower_results(sb, manifest, out) if r.status != "PASS"]
    assert [(r.check, r.account_id) for r in failed] == [
        (f"control-tower:{entry.control_identifier.rsplit('/', 1)[-1]}", entry.target_identifier.rsplit("/", 1)[-1])
    ]
    assert "drift" in failed[0].reason
