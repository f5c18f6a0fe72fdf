"""Changes that weaken a guardrail in place are flagged for approval (review item 8); each of these passed the
gate unflagged before: narrowed ports, no fast path, remediation that gives up sooner, a changed runbook,
a removed pack or SCP part."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgguard.manifest import Manifest, load_manifest
from orgguard.review.diff import RUNBOOK, SCOPE, WEAKENED, WIDENED, ManifestDiff, diff_manifests
from orgguard.synth.build import MANIFEST_FILE, synthesize

from .factory import SG_DOC, control, example_manifest, mutate

ROOT = Path(__file__).resolve().parents[2]

FAST_PATH = {
    "rule_name": "orgguard-open-ingress-fast-path",
    "regions": ["us-east-1", "eu-west-1"],
    "event_pattern": {"source": ["aws.ec2"], "detail": {"eventName": ["AuthorizeSecurityGroupIngress"]}},
    "role": "orgguard-fast-path",
    "document": SG_DOC,
    "routes": [],
}


def with_fast_path(d: dict[str, Any]) -> None:
    d["fast_path"] = copy.deepcopy(FAST_PATH)


def diff_of(edit: Any, base: Any = None) -> tuple[Manifest, ManifestDiff]:
    old = mutate(example_manifest(), base) if base else example_manifest()
    new = mutate(old, edit)
    return new, diff_manifests(old, new)


def flags(diff: ManifestDiff, kind: str) -> list[str]:
    return [f.line() for f in diff.flags if f.kind == kind]


def test_narrowing_restricted_ports_is_flagged() -> None:
    """ports: [3389] instead of control-tower: 20, 21, 3306 and 4333 go undetected and unremediated."""

    def edit(d: dict[str, Any]) -> None:
        c = control(d, "restricted-common-ports")
        c["rule"]["input_parameters"] = {"blockedPort1": "3389"}
        c["remediation"]["parameters"]["RestrictedPorts"]["static_values"] = ["3389"]

    _, diff = diff_of(edit)
    [line] = flags(diff, WEAKENED)
    assert "restricted-common-ports" in line and "20, 21, 3306, 4333 no longer restricted" in line


def test_reordering_or_widening_ports_is_not_flagged() -> None:
    def edit(d: dict[str, Any]) -> None:
        c = control(d, "restricted-common-ports")
        c["rule"]["input_parameters"] = {"blockedPorts": "4333,3306,3389,21,20,5432"}
        c["remediation"]["parameters"]["RestrictedPorts"]["static_values"] = ["20", "21", "3306", "3389", "4333"]

    _, diff = diff_of(edit)
    assert not flags(diff, WEAKENED)


def test_fast_path_removed_or_narrowed_is_flagged() -> None:
    _, diff = diff_of(lambda d: d.update(fast_path=None), base=with_fast_path)
    assert any("fast path removed" in line for line in flags(diff, WEAKENED))

    def narrow(d: dict[str, Any]) -> None:
        d["fast_path"]["regions"] = ["us-east-1"]

    _, diff = diff_of(narrow, base=with_fast_path)
    assert any("no longer in region(s) eu-west-1" in line for line in flags(diff, WEAKENED))


def test_fast_path_added_is_not_flagged() -> None:
    _, diff = diff_of(with_fast_path)
    assert not diff.flags


@pytest.mark.parametrize(
    ("attr", "value", "weaker"),
    [
        ("maximum_automatic_attempts", 1, True),
        ("maximum_automatic_attempts", 5, False),
        ("retry_attempt_seconds", 3600, True),
        ("retry_attempt_seconds", 1, False),
        ("error_percentage", 1, True),
        ("error_percentage", 50, False),
        ("concurrent_execution_rate_percentage", 1, True),
        ("concurrent_execution_rate_percentage", 50, False),
    ],
)
def test_remediation_that_gives_up_sooner_is_flagged(attr: str, value: int, weaker: bool) -> None:
    def base(d: dict[str, Any]) -> None:
        r = control(d, "restricted-ssh")["remediation"]
        r.update(maximum_automatic_attempts=3, retry_attempt_seconds=60, error_percentage=10)
        r["concurrent_execution_rate_percentage"] = 10

    def edit(d: dict[str, Any]) -> None:
        control(d, "restricted-ssh")["remediation"][attr] = value

    _, diff = diff_of(edit, base=base)
    assert bool(flags(diff, WEAKENED)) is weaker
    if weaker:
        assert attr in flags(diff, WEAKENED)[0]


def test_document_content_change_is_a_flagged_runbook_change() -> None:
    def edit(d: dict[str, Any]) -> None:
        next(doc for doc in d["documents"] if doc["name"] == SG_DOC)["sha256"] = "f" * 64

    _, diff = diff_of(edit)
    [line] = flags(diff, RUNBOOK)
    assert "RUNBOOK CHANGED" in line and SG_DOC in line


@pytest.mark.parametrize("where", ["conformance_packs", "stack_sets"])
def test_template_content_change_is_a_flagged_runbook_change(where: str) -> None:
    _, diff = diff_of(lambda d: d[where][0].update(template_sha256="e" * 64))
    assert len(flags(diff, RUNBOOK)) == 1


def test_removed_pack_rule_document_and_role_are_flagged() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["conformance_packs"][0]["rules"] = d["conformance_packs"][0]["rules"][1:]

    _, diff = diff_of(edit)
    assert any("rule" in line and "removed" in line for line in flags(diff, SCOPE))
    _, diff = diff_of(lambda d: d["roles"].pop())
    assert any("role removed" in line for line in flags(diff, WEAKENED))


def test_removed_scp_part_is_flagged() -> None:
    """Two parts act as one SCP; dropping the second drops its denies."""

    def two_parts(d: dict[str, Any]) -> None:
        first = d["scp"]["policies"][0]
        second = copy.deepcopy(first)
        second["name"] = first["name"] + "-2"
        second["policy"]["Statement"][0].update(Sid="Recorder", Action=["config:StopConfigurationRecorder"])
        second["policy"]["Statement"][0]["Resource"] = "*"
        d["scp"]["policies"].append(second)

    _, diff = diff_of(lambda d: d["scp"]["policies"].pop(), base=two_parts)
    assert any("config:StopConfigurationRecorder" in line for line in flags(diff, WIDENED))


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ({"allow_stopping_automation": True}, "no longer denies"),
        ({"exempt_landing_zone_accelerator": True}, "applies under fewer condition"),
        ({"protect_governance_resources": False}, "SCP removed"),
    ],
    ids=["allow-stop", "lza-opt-in", "no-scp"],
)
def test_scp_switches_that_weaken_it_are_flagged_on_real_plans(
    tmp_path: Path, edit: dict[str, Any], words: str
) -> None:
    def plan(name: str, scp: dict[str, Any]) -> Manifest:
        data = yaml.safe_load((ROOT / "governance.yaml").read_text())
        data["scp"].update(scp)
        config = tmp_path / f"{name}.yaml"
        config.write_text(yaml.safe_dump(data))
        synthesize(config, tmp_path / name)
        return load_manifest(tmp_path / name / MANIFEST_FILE)

    diff = diff_manifests(plan("base", {}), plan("new", edit))
    assert any(words in f.line() for f in diff.flags if f.kind == WIDENED), [f.line() for f in diff.flags]
