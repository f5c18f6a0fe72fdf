"""The report and gate read the exemptions the deployed runbook embeds, not the manifest's description of them
(review item 2): the reviewer's repros on synth's real output."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgguard.cli import main
from orgguard.manifest import Manifest, load_manifest
from orgguard.synth.build import MANIFEST_FILE, synthesize

ROOT = Path(__file__).resolve().parents[2]
SG_DOC_FILE = "documents/orgguard-RevokePublicSgIngress.json"
INJECTED = {"account_id": "444444444444", "expires": "2099-12-31", "security_group_id": "sg-0aaaaaaaaaaaaaaaa"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("embedded") / "base"
    synthesize(ROOT / "governance.yaml", out)
    return out


def copy_plan(base: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    shutil.copytree(base, out, ignore=shutil.ignore_patterns("stacks"))
    return out


def rewrite_manifest(plan: Path, edit: Any) -> None:
    data = load_manifest(plan / MANIFEST_FILE, files="skip").model_dump(mode="json")
    edit(data)
    (plan / MANIFEST_FILE).write_text(Manifest.model_validate(data).to_json())


def edit_sg_document(plan: Path, change: Any) -> None:
    """Edit the SG document and fix its hash in the manifest, as the reviewer did."""
    path = plan / SG_DOC_FILE
    doc = json.loads(path.read_text())
    change(doc)
    text = json.dumps(doc)
    path.write_text(text)
    sha = hashlib.sha256(text.encode()).hexdigest()

    def fix(d: dict[str, Any]) -> None:
        next(x for x in d["documents"] if x["content_file"] == SG_DOC_FILE)["sha256"] = sha

    rewrite_manifest(plan, fix)


def payload(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["mainSteps"][0]["inputs"]["InputPayload"]


def gate(plan: Path, base: Path) -> int:
    return main(["report", "--manifest", str(plan / MANIFEST_FILE), "--against", str(base / MANIFEST_FILE), "--gate"])


def test_unchanged_plan_passes(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gate(base, base) == 0
    assert "GATE PASSED" in capsys.readouterr().err


def test_exemption_injected_into_document_with_fixed_hash_is_refused(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: GATE PASSED, "no new exemption"; the document exempted sg-0aaaaaaaaaaaaaaaa."""
    plan = copy_plan(base, tmp_path)
    edit_sg_document(plan, lambda d: payload(d)["ApprovedExemptions"].append(dict(INJECTED, owner="x")))
    assert gate(plan, base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert SG_DOC_FILE in err[0] and "embeds 2 exemption(s) (1 not in the manifest" in err[0]


def test_script_change_with_fixed_hash_is_a_flagged_runbook_change(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: an unflagged "content changed" row, gate passed."""
    plan = copy_plan(base, tmp_path)

    def exempt_everything(d: dict[str, Any]) -> None:
        d["mainSteps"][0]["inputs"]["Script"] = "def handler(events, context):\n    return {'status': 'EXEMPT'}\n"

    edit_sg_document(plan, exempt_everything)
    assert gate(plan, base) == 1
    err = capsys.readouterr().err
    assert "GATE REFUSED" in err and "[RUNBOOK CHANGED] document orgguard-RevokePublicSgIngress" in err


def test_exemptions_hidden_from_manifest_are_refused(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: exemptions: [] in the manifest passed and the report said "Exemptions: none"."""
    plan = copy_plan(base, tmp_path)
    rewrite_manifest(plan, lambda d: d.update(exemptions=[]))
    assert main(["report", "--manifest", str(plan / MANIFEST_FILE)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all("manifest.exemptions lists 0" in line for line in err)
    assert any(SG_DOC_FILE in line for line in err)
    assert any("templates/orgguard-documents.yaml" in line for line in err)


def test_stackset_template_edited_with_fixed_hash_is_refused(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The StackSet template is what deploys the document: its embedded list is checked too."""
    plan = copy_plan(base, tmp_path)
    ss = next(s for s in load_manifest(plan / MANIFEST_FILE, files="skip").stack_sets if s.purpose == "documents")
    path = plan / ss.template_file
    body = yaml.safe_load(path.read_text())
    for res in body["Resources"].values():
        if res["Type"] != "AWS::SSM::Document":
            continue
        content = json.loads(res["Properties"]["Content"])
        if "ApprovedExemptions" in payload(content):
            payload(content)["ApprovedExemptions"] = [dict(INJECTED, owner="x")]
            res["Properties"]["Content"] = json.dumps(content)
    path.write_text(yaml.safe_dump(body))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()

    def fix(d: dict[str, Any]) -> None:
        next(s for s in d["stack_sets"] if s["purpose"] == "documents")["template_sha256"] = sha

    rewrite_manifest(plan, fix)
    assert gate(plan, base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ss.template_file in err[0] and "1 not in the manifest" in err[0]


def test_exemption_injected_into_the_stack_file_terraform_applies_is_refused(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stack file carries the documents StackSet template inline; editing it there (and fixing the stack
    file's hash in the manifest) leaves the hashed template and document untouched, yet changes what deploys."""
    plan = tmp_path / "plan"
    shutil.copytree(base, plan)
    manifest = load_manifest(plan / MANIFEST_FILE, files="skip")
    stack = next(f.path for f in manifest.files if f.path.endswith("org-global/cdk.tf.json"))
    tf = json.loads((plan / stack).read_text())
    res = tf["resource"]["aws_cloudformation_stack_set"]
    documents = next(r for r in res.values() if r["name"].endswith("documents"))
    assert '"ApprovedExemptions":[' in documents["template_body"]
    documents["template_body"] = documents["template_body"].replace(
        '"ApprovedExemptions":[', '"ApprovedExemptions":[' + json.dumps(dict(INJECTED, owner="x")) + ",", 1
    )
    text = json.dumps(tf, indent=2)
    (plan / stack).write_text(text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    rewrite_manifest(plan, lambda d: next(f for f in d["files"] if f["path"] == stack).update(sha256=sha))
    assert gate(plan, base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and stack in err[0] and "differs from templates/orgguard-documents.yaml" in err[0], err


def test_a_real_plan_of_each_layout_passes_the_inline_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No false refusal: organization mode with the management runbooks, and account mode's modules."""
    data = yaml.safe_load((ROOT / "governance.yaml").read_text())
    data["organization"]["include_management_account"] = True
    config = tmp_path / "mgmt.yaml"
    config.write_text(yaml.safe_dump(data))
    for name, source in [("mgmt", config), ("vending", ROOT / "examples" / "account-vending.yaml")]:
        synthesize(source, tmp_path / name)
        assert main(["report", "--manifest", str(tmp_path / name / MANIFEST_FILE), "--gate"]) in (0, 1)
        assert "error" not in capsys.readouterr().err
