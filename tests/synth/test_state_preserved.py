"""Re-synth replaces only what synth writes: state, `.terraform/`, lock and override files, and anything
else an operator keeps in the output, survive byte for byte and in place (the same inode).

Before this, synth renamed the whole output aside and deleted it, so every test here that re-synthesizes
over user files failed: the files were gone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orgguard.synth.build import synthesize
from orgguard.synth.install import RECORD
from tests.synth.conftest import EXAMPLE, run_cli, variant

GLOBAL = "orgguard-org-global"
REGION = "orgguard-org-eu-west-1"


def _user_files(out: Path) -> dict[str, bytes]:
    """What terraform and an operator leave in an applied output, with distinct contents."""
    files = {}
    for stack in (GLOBAL, REGION):
        base = f"stacks/{stack}"
        files.update(
            {
                f"{base}/terraform.tfstate": f'{{"version": 4, "serial": 7, "lineage": "{stack}"}}'.encode(),
                f"{base}/terraform.tfstate.backup": f'{{"version": 4, "serial": 6, "lineage": "{stack}"}}'.encode(),
                f"{base}/.terraform.lock.hcl": b'provider "registry.terraform.io/hashicorp/aws" {}\n',
                f"{base}/.terraform/terraform.tfstate": b'{"backend": {"type": "local"}}',
                f"{base}/.terraform/providers/hashicorp/aws/5.100.0/linux_amd64/bin": os.urandom(64),
                f"{base}/backend_override.tf.json": b'{"terraform": {"backend": {"s3": {"bucket": "mine"}}}}',
                f"{base}/timeouts_override.tf": b"# operator's own override\n",
                f"{base}/README.operator": b"do not delete\n",
            }
        )
    files["hcl-review-notes.txt"] = b"reviewed 2026-11-30\n"
    files["stacks/.keep"] = b""
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _snapshot(out: Path, rels) -> dict[str, tuple[bytes, int]]:
    return {rel: ((out / rel).read_bytes(), (out / rel).stat().st_ino) for rel in rels}


def test_resynth_keeps_state_lock_files_terraform_dir_and_overrides_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out)
    files = _user_files(out)
    before = _snapshot(out, files)
    old_region = (out / "stacks" / REGION / "cdk.tf.json").read_text()

    def edit(data: dict) -> None:
        data["controls"]["restricted-common-ports"]["ports"] = [3389, 5432]

    result = run_cli("synth", "--config", str(variant(tmp_path, "changed.yaml", edit)), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert _snapshot(out, files) == before  # same bytes, and never moved (same inode)
    assert (out / "stacks" / REGION / "cdk.tf.json").read_text() != old_region  # the new plan is in place
    new_region = json.loads((out / "stacks" / REGION / "cdk.tf.json").read_text())
    assert new_region["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
    assert not [p for p in out.iterdir() if p.name.startswith((".cdktf.out.new-", ".orgguard-previous-"))]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cdktf.out")], "staging left beside the output"


def test_the_synthesized_files_are_replaced(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out)
    before = (out / "templates" / "conformance-pack-eu-west-1.yaml").read_text()

    def edit(data: dict) -> None:
        data["controls"]["restricted-common-ports"]["ports"] = [3389, 5432]

    synthesize(variant(tmp_path, "ports.yaml", edit), out)
    after = (out / "templates" / "conformance-pack-eu-west-1.yaml").read_text()
    assert after != before and "5432" in after
    record = json.loads((out / RECORD).read_text())
    assert f"stacks/{GLOBAL}/cdk.tf.json" in record["files"]
    assert not any("tfstate" in f or "override" in f for f in record["files"])


def test_a_stack_that_left_the_plan_keeps_its_directory_and_is_reported(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out)
    gone = "orgguard-org-ap-northeast-1"
    state = out / "stacks" / gone / "terraform.tfstate"
    state.write_text('{"version": 4, "serial": 3}')
    config_before = (out / "stacks" / gone / "cdk.tf.json").read_bytes()

    def edit(data: dict) -> None:
        data["organization"]["regions"].remove("ap-northeast-1")

    result = run_cli("synth", "--config", str(variant(tmp_path, "fewer.yaml", edit)), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert state.read_text() == '{"version": 4, "serial": 3}'
    # Its last configuration stays too: `terraform destroy` there needs it.
    assert (out / "stacks" / gone / "cdk.tf.json").read_bytes() == config_before
    warnings = [line for line in result.stderr.splitlines() if gone in line]
    assert len(warnings) == 1 and "no longer in the plan" in warnings[0] and "terraform destroy" in warnings[0]
    manifest = json.loads((out / "orgguard-manifest.json").read_text())
    assert gone not in {s["name"] for s in manifest["stacks"]}
    # The stale template of the dropped region is the synth's own file: removed.
    assert not (out / "templates" / "conformance-pack-ap-northeast-1.yaml").exists()


def test_dropping_hcl_removes_the_hcl_synth_wrote_but_not_state_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out, hcl=True)
    hcl_state = out / "hcl" / GLOBAL / "terraform.tfstate"
    hcl_state.write_text("applied from the HCL copy")
    synthesize(EXAMPLE, out)
    assert not (out / "hcl" / REGION / "main.tf").exists()
    assert not (out / "hcl" / REGION).exists()  # emptied by synth alone: pruned
    assert hcl_state.read_text() == "applied from the HCL copy"


@pytest.mark.parametrize("applied", ["terraform.tfstate", ".terraform"])
def test_dropping_hcl_keeps_the_configuration_beside_state_and_warns(tmp_path: Path, applied: str) -> None:
    """Review item 9: synth without --hcl removed hcl/<stack>/main.tf beside its state, and the next apply
    there planned to destroy everything. Now it stays, with one warning line per kept file, every synth."""
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out, hcl=True)
    config = (out / "hcl" / GLOBAL / "main.tf").read_bytes()
    beside = out / "hcl" / GLOBAL / applied
    if applied == ".terraform":  # a remote backend: no local state, only what `terraform init` wrote
        beside.mkdir()
        (beside / "terraform.tfstate").write_text('{"backend": {"type": "s3"}}')
    else:
        beside.write_text('{"version": 4, "serial": 9}')
    for _ in range(2):
        result = run_cli("synth", "--config", str(EXAMPLE), "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert (out / "hcl" / GLOBAL / "main.tf").read_bytes() == config
        warnings = [line for line in result.stderr.splitlines() if f"hcl/{GLOBAL}/main.tf" in line]
        assert len(warnings) == 1 and "kept as it was" in warnings[0] and "state" in warnings[0], result.stderr
    assert not (out / "hcl" / REGION).exists()  # nothing was applied there: removed as before
    synthesize(EXAMPLE, out, hcl=True)  # --hcl again: the kept file is synth's and is brought up to date
    assert (out / "hcl" / GLOBAL / "main.tf").exists() and (out / "hcl" / REGION / "main.tf").exists()


def test_output_of_an_earlier_version_without_a_record(tmp_path: Path) -> None:
    """Outputs written before the record existed: what the old manifest names is synth's, the rest is kept."""
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out)
    (out / RECORD).unlink()
    manifest = json.loads((out / "orgguard-manifest.json").read_text())
    manifest["conformance_packs"][0]["template_file"] = "templates/conformance-pack-old-1.yaml"
    (out / "orgguard-manifest.json").write_text(json.dumps(manifest))
    (out / "templates" / "conformance-pack-old-1.yaml").write_text("stale")
    (out / "templates" / "mine.yaml").write_text("an operator's own file")
    state = out / "stacks" / GLOBAL / "terraform.tfstate"
    state.write_text("state")
    synthesize(EXAMPLE, out)
    assert not (out / "templates" / "conformance-pack-old-1.yaml").exists()
    assert (out / "templates" / "mine.yaml").read_text() == "an operator's own file"
    assert state.read_text() == "state"


def test_a_tampered_record_cannot_make_synth_delete_state_overrides_or_outside_files(tmp_path: Path) -> None:
    """The record only ever removes files of the shapes synth writes, inside the output, never state."""
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out)
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    keep = {
        f"stacks/{GLOBAL}/terraform.tfstate": "state",
        f"stacks/{GLOBAL}/.terraform/terraform.tfstate": "backend",
        f"stacks/{GLOBAL}/backend_override.tf.json": "{}",
        "NOTES.md": "notes",
        "stacks/old-stack/cdk.tf.json": "a stack this synth does not write",
    }
    for rel, text in keep.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    record = {"version": 1, "files": [*keep, "../outside.txt", str(outside), "stacks/../NOTES.md", 7, None]}
    (out / RECORD).write_text(json.dumps(record))
    synthesize(EXAMPLE, out)
    assert outside.read_text() == "outside"
    for rel, text in keep.items():
        assert (out / rel).read_text() == text, rel


def test_a_failing_move_puts_every_file_back(tmp_path: Path) -> None:
    """A file synth must write is blocked by a directory: the files already moved go back, nothing is lost."""
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out)
    state = out / "stacks" / GLOBAL / "terraform.tfstate"
    state.write_text("state")
    blocker = out / "templates" / "orgguard-roles.yaml"  # sorted after documents/ and stacks/, which move first
    blocker.unlink()
    blocker.mkdir()
    (blocker / "inside").write_text("x")
    digest = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def edit(data: dict) -> None:
        data["remediation"] = {"maximum_automatic_attempts": 2}

    result = run_cli("synth", "--config", str(variant(tmp_path, "c.yaml", edit)), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "is a directory, but synth writes a file there" in result.stderr
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == digest
    assert not [p for p in out.iterdir() if p.name.startswith((".cdktf.out.new-", ".orgguard-previous-"))]


def test_out_naming_a_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    target = tmp_path / "governance-notes.txt"
    target.write_text("mine")
    result = run_cli("synth", "--config", str(EXAMPLE), "--out", str(target))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "is a file, not a directory" in result.stderr
    assert target.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize("hcl", [False, True])
def test_synth_into_an_existing_directory_of_other_files_touches_none_of_them(tmp_path: Path, hcl: bool) -> None:
    out = tmp_path / "work"
    (out / "templates").mkdir(parents=True)
    (out / "templates" / "team.yaml").write_text("team template")
    (out / "terraform.tfstate").write_text("someone's state")
    synthesize(EXAMPLE, out, hcl=hcl)
    synthesize(EXAMPLE, out, hcl=hcl)
    assert (out / "templates" / "team.yaml").read_text() == "team template"
    assert (out / "terraform.tfstate").read_text() == "someone's state"
