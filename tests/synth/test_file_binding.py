"""What terraform applies is bound to the plan (review item 13): the manifest records the sha256 of every
stack file, the HCL when written, and account mode's shared module files; the verifier's binding and the
review's loader refuse a file that does not match, in one line, exit 2. `--account` records exactly what a
full synth records, so the approved manifest hash still matches.

Before this, `stacks/*/cdk.tf.json` had no hash: an edited stack bound cleanly, and every refusal below
passed (an old manifest has no `files` at all)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from orgguard.cli import main
from orgguard.manifest import ManifestError, load_manifest
from orgguard.synth.build import synthesize
from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE, run_cli

GLOBAL = "orgguard-org-global"
S3 = {"backend": "s3", "bucket": "tfstate-bucket-1", "region": "eu-west-1", "key_prefix": "lz/orgguard"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()  # drop what synth printed (its warnings)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _account_file(tmp: Path, state: dict | None = None) -> Path:
    data = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    if state:
        data["state"] = state
    path = tmp / "accounts.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_every_stack_and_hcl_file_is_recorded_with_its_hash(tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = synthesize(EXAMPLE, out, hcl=True)
    recorded = {f.path: f.sha256 for f in manifest.files}
    expected = {f"stacks/{s.name}/cdk.tf.json" for s in manifest.stacks} | {
        f"hcl/{s.name}/main.tf" for s in manifest.stacks
    }
    assert set(recorded) == expected
    assert all(recorded[rel] == _sha(out / rel) for rel in recorded)
    assert load_manifest(out / "orgguard-manifest.json").files == manifest.files


@pytest.mark.parametrize("hcl", [False, True])
@pytest.mark.parametrize("state", [None, S3], ids=["local", "s3"])
def test_account_mode_records_modules_and_every_account_and_account_flag_writes_the_same_manifest(
    tmp_path: Path, hcl: bool, state: dict | None
) -> None:
    config = _account_file(tmp_path, state)
    full, one = tmp_path / "full", tmp_path / "one"
    manifest = synthesize(config, full, hcl=hcl)
    accounts = [s for s in manifest.stacks if s.kind == "account"]
    assert len(accounts) >= 2
    synthesize(config, one, hcl=hcl, account=accounts[-1].account_id)
    assert (full / "orgguard-manifest.json").read_bytes() == (one / "orgguard-manifest.json").read_bytes()
    paths = {f.path for f in manifest.files}
    assert {"modules/orgguard-account-global/main.tf.json", "modules/orgguard-account-regional/main.tf.json"} <= paths
    assert {f"stacks/{s.name}/cdk.tf.json" for s in accounts} <= paths
    assert ({f"hcl/{s.name}/main.tf" for s in accounts} <= paths) == hcl
    for entry in manifest.files:  # the full synth wrote them all: each recorded hash is the file's
        assert _sha(full / entry.path) == entry.sha256, entry.path
    assert not (one / "stacks" / accounts[0].name).exists()  # --account wrote one stack ...
    load_manifest(one / "orgguard-manifest.json")  # ... and binds: absent stacks cannot be applied


@pytest.mark.parametrize(
    "rel",
    [
        f"stacks/{GLOBAL}/cdk.tf.json",
        f"hcl/{GLOBAL}/main.tf",
    ],
)
def test_an_edited_stack_file_is_refused_by_verify_and_review_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rel: str
) -> None:
    out = tmp_path / "out"
    synthesize(EXAMPLE, out, hcl=True)
    stack = out / rel
    stack.write_text(stack.read_text().replace('"~> 5.100"', '"~> 4.0"').replace("~> 5.100", "~> 4.0"))
    manifest = str(out / "orgguard-manifest.json")
    for argv in (["verify", "--manifest", manifest], ["report", "--manifest", manifest]):
        err = _one_line(argv, capsys)
        assert rel in err and "changed after synth" in err and "files[" in err, err


def test_an_edited_module_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    synthesize(_account_file(tmp_path), out)
    module = out / "modules" / "orgguard-account-regional" / "main.tf.json"
    data = json.loads(module.read_text())
    data["resource"].pop("aws_config_remediation_configuration")  # remediation quietly gone from every account
    module.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    err = _one_line(["verify", "--manifest", str(out / "orgguard-manifest.json")], capsys)
    assert "modules/orgguard-account-regional/main.tf.json" in err and "changed after synth" in err


def test_dropping_the_records_from_the_manifest_does_not_unbind_the_stacks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    synthesize(EXAMPLE, out)
    path = out / "orgguard-manifest.json"
    data = json.loads(path.read_text())
    data.pop("files")
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert f"no hash recorded for stacks/{GLOBAL}/cdk.tf.json" in str(err.value)
    # A previous plan archived on its own (the review's --against) still loads.
    load_manifest(path, files="if_present")


def test_a_recorded_path_synth_never_writes_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    synthesize(EXAMPLE, out)
    path = out / "orgguard-manifest.json"
    data = json.loads(path.read_text())
    data["files"][0]["path"] = "../../etc/passwd"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert "files[0].path" in str(err.value) and "not a stack, HCL or module file" in str(err.value)


def test_account_flag_over_a_stale_full_output_names_the_stale_stack(tmp_path: Path) -> None:
    """A stack another plan's synth left beside the manifest is not this plan's: refused, named."""
    config = _account_file(tmp_path)
    out = tmp_path / "out"
    manifest = synthesize(config, out)
    other, mine = manifest.stacks[0], manifest.stacks[-1]
    data = yaml.safe_load(config.read_text())
    data["organization"]["regions"] = data["organization"]["regions"][:1]
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_cli("synth", "--config", str(config), "--out", str(out), "--account", mine.account_id or "")
    assert result.returncode == 0, result.stderr
    with pytest.raises(ManifestError) as err:
        load_manifest(out / "orgguard-manifest.json")
    assert f"stacks/{other.name}/cdk.tf.json" in str(err.value) and "earlier synth" in str(err.value)


@pytest.mark.parametrize("field", ["document", "role"])
def test_a_control_naming_a_missing_document_or_role_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str
) -> None:
    out = tmp_path / "out"
    synthesize(EXAMPLE, out)
    path = out / "orgguard-manifest.json"
    data = json.loads(path.read_text())
    control = next(c for c in data["controls"] if c["enabled"] and c["remediation"]["mode"] != "off")
    control["remediation"][field] = "orgguard-nowhere"
    path.write_text(json.dumps(data))
    for argv in (["verify", "--manifest", str(path)], ["report", "--manifest", str(path)]):
        err = _one_line(argv, capsys)
        assert f"({control['id']}).remediation.{field} 'orgguard-nowhere' is not among" in err, err
