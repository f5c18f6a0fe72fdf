"""ECS hardening controls (issue 12 item 5): in the catalog, the report and the verifier when enabled, nowhere
when not; approval-only (no runbook, no binding); the file's mistakes refused one line each.

Before these folders existed none of this held: the ids were unknown keys (`controls.ecs-containers-nonprivileged:
unknown key`), so every test that enables them failed at parse time.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orgguard.config.load import ConfigError, parse_governance
from orgguard.controls import CATALOG
from orgguard.manifest import MANIFEST_FILE, Manifest, load_manifest
from orgguard.review.diff import diff_manifests
from orgguard.review.render import render_report
from orgguard.synth.build import synthesize
from orgguard.synth.plan import build_plan
from orgguard.verify.runner import _member_tasks

ROOT = Path(__file__).resolve().parents[2]
ORG_FILE = ROOT / "governance.yaml"
ACCOUNT_FILE = ROOT / "examples" / "account-vending.yaml"
ECS = {
    "ecs-containers-nonprivileged": "ECS_CONTAINERS_NONPRIVILEGED",
    "ecs-no-environment-secrets": "ECS_NO_ENVIRONMENT_SECRETS",
    "ecs-task-network-mode-not-host": "ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST",
}
ENABLE = {cid: {"enabled": True} for cid in ECS}


def _with(base: Path, controls: dict[str, dict[str, object]]) -> str:
    data = yaml.safe_load(base.read_text())
    data.setdefault("controls", {}).update(controls)
    return yaml.safe_dump(data, sort_keys=False)


def _manifest(text: str) -> Manifest:
    return build_plan(parse_governance(text, "g.yaml"), Path("g.yaml"), text).manifest


def _refusal(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_governance(text, "g.yaml")
    return err.value.problems


def _files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def enabled_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    work = tmp_path_factory.mktemp("ecs")
    outs = {}
    for mode, base in (("organization", ORG_FILE), ("account", ACCOUNT_FILE)):
        config = work / f"{mode}.yaml"
        config.write_text(_with(base, ENABLE))
        outs[mode] = work / f"{mode}-out"
        synthesize(config, outs[mode], hcl=mode == "account")
    yield outs


def test_the_three_controls_are_off_by_default_and_left_out_of_the_plan() -> None:
    text = ORG_FILE.read_text()
    gov = parse_governance(text, "g.yaml")
    assert all(not gov.control_settings(cid).enabled and not CATALOG[cid].default_enabled for cid in ECS)
    manifest = _manifest(text)
    assert not {c.id for c in manifest.controls} & set(ECS)
    # explicitly disabled means the same as not mentioned
    disabled = _manifest(_with(ORG_FILE, {cid: {"enabled": False} for cid in ECS}))
    assert disabled.model_copy(update={"source": manifest.source}).to_json() == manifest.to_json()


@pytest.mark.parametrize("base", [ORG_FILE, ACCOUNT_FILE], ids=["organization", "account"])
def test_a_file_that_does_not_enable_them_synthesizes_byte_for_byte_as_without_the_folders(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog with the three folders and the catalog without them give the same output directory."""
    config = tmp_path / base.name
    config.write_text(base.read_text())
    synthesize(config, tmp_path / "with")
    for cid in ECS:
        monkeypatch.delitem(CATALOG, cid)
    synthesize(config, tmp_path / "without")
    with_files, without_files = _files(tmp_path / "with"), _files(tmp_path / "without")
    assert with_files == without_files
    everything = "\n".join(with_files.values())
    for cid, identifier in ECS.items():
        assert cid not in everything and identifier not in everything
    assert "remediation_advice" not in with_files[MANIFEST_FILE]


def test_enabled_they_are_in_the_manifest_the_pack_and_the_account_rules(enabled_out: dict[str, Path]) -> None:
    org = load_manifest(enabled_out["organization"] / MANIFEST_FILE)
    entries = {c.id: c for c in org.controls}
    for cid, identifier in ECS.items():
        entry = entries[cid]
        assert entry.enabled and entry.rule.source_owner == "AWS" and entry.rule.source_identifier == identifier
        assert entry.resource_types == ["AWS::ECS::TaskDefinition"]
        # approval-only: no runbook, no document, no role, no binding anywhere
        assert entry.remediation.mode == "off" and entry.remediation.document is None and not entry.remediation.role
        assert entry.remediation_advice and any("latest active revision" in c for c in entry.caveats)
    assert entries["ecs-no-environment-secrets"].rule.input_parameters == {
        "secretKeys": "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,ECS_ENGINE_AUTH_DATA"
    }
    assert "AWS::ECS::TaskDefinition" in org.recorder_resource_types
    for pack in org.conformance_packs:
        template = yaml.safe_load((enabled_out["organization"] / pack.template_file).read_text())
        rules = {
            r["Properties"]["Source"].get("SourceIdentifier"): r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::Config::ConfigRule"
        }
        assert set(ECS.values()) <= set(rules)
        bindings = [r for r in template["Resources"].values() if r["Type"] == "AWS::Config::RemediationConfiguration"]
        bound = {b["Properties"]["ConfigRuleName"] for b in bindings}
        assert not bound & {entries[cid].rule.name for cid in ECS}
    account = _files(enabled_out["account"])
    module = json.loads(account["modules/orgguard-account-regional/main.tf.json"])
    rules = module["resource"]["aws_config_config_rule"]
    identifiers = {r["source"].get("source_identifier") for r in rules.values()}
    assert set(ECS.values()) <= identifiers
    secrets = next(
        r for r in rules.values() if r["source"].get("source_identifier") == ECS["ecs-no-environment-secrets"]
    )
    assert json.loads(secrets["input_parameters"]) == {
        "secretKeys": "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,ECS_ENGINE_AUTH_DATA"
    }
    remediations = module["resource"].get("aws_config_remediation_configuration", {})
    assert not [r for r in remediations.values() if any(i in json.dumps(r) for i in ECS)]


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_the_account_stack_with_them_passes_terraform_validate(enabled_out: dict[str, Path]) -> None:
    stack = sorted((enabled_out["account"] / "stacks").iterdir())[0]
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    for cmd in (["terraform", "init", "-backend=false", "-input=false", "-no-color"], ["terraform", "validate"]):
        result = subprocess.run(cmd, cwd=stack, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_report_gives_each_its_section_caveat_and_advice_once(enabled_out: dict[str, Path], fmt: str) -> None:
    manifest = load_manifest(enabled_out["organization"] / MANIFEST_FILE)
    raw = render_report(manifest, fmt)
    text = html.unescape(re.sub(r"<[^>]+>", "", raw)) if fmt == "html" else html.unescape(raw.replace("\\", ""))
    for cid in ECS:
        entry = next(c for c in manifest.controls if c.id == cid)
        assert f"Control {cid}" in text if fmt == "markdown" else f"{cid}: {entry.title}" in text
        assert entry.title in text
        assert text.count(entry.remediation_advice) == 1, cid
        assert entry.caveats[0] in text
    assert "What a person does" in text
    assert "deregister the old revisions" in text and "Secrets Manager" in text and "networkMode awsvpc" in text
    # a control without advice gets no empty advice line
    plain = _manifest(ORG_FILE.read_text())
    assert "What a person does" not in render_report(plain, fmt)


def test_enabling_them_is_a_change_and_dropping_an_enabled_one_is_flagged() -> None:
    before = _manifest(ORG_FILE.read_text())
    after = _manifest(_with(ORG_FILE, ENABLE))
    added = diff_manifests(before, after)
    assert set(ECS) <= set(added.added_controls) and not [f for f in added.flags if f.subject in ECS]
    removed = diff_manifests(after, before)
    assert {f.subject for f in removed.flags} >= set(ECS)
    advice = after.model_copy(
        update={
            "controls": [
                c.model_copy(update={"remediation_advice": "other words"}) if c.id in ECS else c for c in after.controls
            ]
        }
    )
    assert any(ch.detail == "remediation advice changed" for ch in diff_manifests(after, advice).changes)


def test_removing_a_secret_key_is_a_flagged_weakening_and_adding_one_is_not() -> None:
    """Before: secretKeys shortened was a plain "rule parameter secretKeys" change the gate let through."""
    cid = "ecs-no-environment-secrets"
    three = {cid: {"enabled": True, "secret_keys": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"]}}
    two = {cid: {"enabled": True, "secret_keys": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]}}
    before, after = _manifest(_with(ORG_FILE, three)), _manifest(_with(ORG_FILE, two))

    [flag] = [f for f in diff_manifests(before, after).flags if f.subject == cid]
    assert flag.kind == "guardrail-weakened" and "DB_PASSWORD no longer detected" in flag.line()
    assert [f for f in diff_manifests(after, before).flags if f.subject == cid] == []  # more keys: stronger
    disabled = _manifest(_with(ORG_FILE, {cid: {**two[cid], "enabled": False}}))
    assert [f.kind for f in diff_manifests(before, disabled).flags if f.subject == cid] == ["control-disabled"]


def test_the_verifier_checks_their_rules_in_every_account_and_region_only_when_enabled() -> None:
    def planned(manifest: Manifest) -> set[tuple[str, str]]:
        """The (check, control) pairs the verifier plans per account and region (account mode: no org view)."""
        regions = manifest.organization.regions
        tasks = _member_tasks(manifest, None, None, ["333333333333"], regions, None)  # type: ignore[arg-type]
        assert len([t for t in tasks if t.label.endswith(tuple(regions))]) == len(regions)
        return {(key[0], key[1]) for task in tasks for key, _ in task.checks if key[1] in ECS}

    assert planned(_manifest(ACCOUNT_FILE.read_text())) == set()
    checks = planned(_manifest(_with(ACCOUNT_FILE, ENABLE)))
    assert checks == {(check, cid) for cid in ECS for check in ("config-rule", "remediation")}


def test_secret_keys_are_rendered_as_csv_in_file_order() -> None:
    keys = ["DB_PASSWORD", "API_TOKEN", "AWS_SECRET_ACCESS_KEY"]
    manifest = _manifest(_with(ORG_FILE, {"ecs-no-environment-secrets": {"enabled": True, "secret_keys": keys}}))
    entry = next(c for c in manifest.controls if c.id == "ecs-no-environment-secrets")
    assert entry.rule.input_parameters == {"secretKeys": "DB_PASSWORD,API_TOKEN,AWS_SECRET_ACCESS_KEY"}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {"ecs-no-environment-secrets": {"enabled": True, "secret_keys": []}},
            ["controls.ecs-no-environment-secrets.secret_keys: must be a non-empty list"],
        ),
        (
            {
                "ecs-no-environment-secrets": {
                    "enabled": True,
                    "secret_keys": ["DB_PASSWORD", "A,B", "1X", "DB_PASSWORD"],
                }
            },
            [
                "controls.ecs-no-environment-secrets.secret_keys[1]: 'A,B' is not an environment variable name",
                "controls.ecs-no-environment-secrets.secret_keys[2]: '1X' is not an environment variable name",
                "controls.ecs-no-environment-secrets.secret_keys[3]: DB_PASSWORD is listed twice",
            ],
        ),
        (
            {"ecs-no-environment-secrets": {"enabled": True, "secret_keys": [7]}},
            ["controls.ecs-no-environment-secrets.secret_keys[0]: 7 is not a name"],
        ),
        (
            {"ecs-containers-nonprivileged": {"enabled": True, "remediation": "manual"}},
            ["controls.ecs-containers-nonprivileged.remediation: ecs-containers-nonprivileged has no manual"],
        ),
        (
            {"ecs-task-network-mode-not-host": {"enabled": True, "remediation": "automatic"}},
            ["controls.ecs-task-network-mode-not-host.remediation: ecs-task-network-mode-not-host has no automatic"],
        ),
        (
            {"ecs-containers-nonprivileged": {"enabled": True, "secret_keys": ["X"]}},
            ["controls.ecs-containers-nonprivileged.secret_keys: unknown key 'secret_keys'"],
        ),
    ],
    ids=["empty", "bad-names", "not-text", "manual", "automatic", "wrong-control"],
)
def test_bad_settings_are_refused_one_line_each_naming_the_field(
    section: dict[str, dict[str, object]], expected: list[str]
) -> None:
    problems = _refusal(_with(ORG_FILE, section))
    assert len(problems) == len(expected), problems
    for line, start in zip(problems, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_an_oversized_secret_key_list_is_refused_naming_the_field() -> None:
    keys = [f"SECRET_NUMBER_{i:03d}_OF_A_LONG_LIST" for i in range(40)]  # > 1,024 characters of CSV
    text = _with(ORG_FILE, {"ecs-no-environment-secrets": {"enabled": True, "secret_keys": keys}})
    with pytest.raises(ConfigError) as err:
        build_plan(parse_governance(text, "g.yaml"), Path("g.yaml"), text)
    assert [p for p in err.value.problems if p.startswith("controls.ecs-no-environment-secrets.secret_keys: makes")]


@pytest.mark.parametrize(
    ("cid", "region"),
    [
        ("ecs-containers-nonprivileged", "ca-west-1"),
        ("ecs-no-environment-secrets", "ap-southeast-5"),
        ("ecs-task-network-mode-not-host", "me-south-1"),
    ],
)
def test_a_region_without_the_managed_rule_is_refused_only_when_enabled(cid: str, region: str) -> None:
    data = yaml.safe_load(ORG_FILE.read_text())
    data["organization"]["regions"] = ["us-east-1", region]
    data["controls"]["ecs-readonly-root-filesystem"] = {"enabled": False}  # not offered there either
    plain = yaml.safe_dump(data, sort_keys=False)
    _manifest(plain)  # off: the region is fine
    data["controls"][cid] = {"enabled": True}
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(ConfigError) as err:
        build_plan(parse_governance(text, "g.yaml"), Path("g.yaml"), text)
    assert f"organization.regions[1]: AWS Config does not offer {ECS[cid]} (control {cid}) in {region}" in "\n".join(
        err.value.problems
    )


def test_each_folder_declares_what_security_hub_and_the_rule_pages_say() -> None:
    expected = {
        "ecs-containers-nonprivileged": ("ECS.4", "high", "ecs-containers-nonprivileged"),
        "ecs-no-environment-secrets": ("ECS.8", "high", "ecs-no-environment-secrets"),
        "ecs-task-network-mode-not-host": ("ECS.17", "medium", "ecs-task-definition-network-mode-not-host"),
    }
    for cid, (sh, severity, page) in expected.items():
        control = CATALOG[cid]
        assert control.mappings.security_hub == [sh] and control.severity == severity
        assert control.runbook is None and control.remediation_modes == ("off",) == (control.default_remediation,)
        assert control.availability_source == f"https://docs.aws.amazon.com/config/latest/developerguide/{page}.html"
