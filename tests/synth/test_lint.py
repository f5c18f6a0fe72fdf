"""Real linters over everything synthesized: cfn-lint for the CloudFormation templates, parliament for
every IAM policy (role trust and permission policies in both modes, the SCP)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from parliament import analyze_policy_string

from orgguard.manifest import for_account
from tests.synth.conftest import stack_json

CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


def _cfn_lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CFN_LINT, str(path)], capture_output=True, text=True, timeout=300)


def test_conformance_pack_templates_pass_cfn_lint(org_out):
    packs = sorted((org_out / "templates").glob("conformance-pack-*.yaml"))
    assert len(packs) == 3
    for pack in packs:
        result = _cfn_lint(pack)
        assert result.returncode == 0, result.stdout + result.stderr


def test_roles_stackset_template_passes_cfn_lint(org_out):
    result = _cfn_lint(org_out / "templates" / "orgguard-roles.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_documents_stackset_template_passes_cfn_lint_including_each_ssm_document(org_out, tmp_path):
    """cfn-lint cannot parse an SSM document given as a string (its E3051 hands a non-str node to the YAML
    reader), so the documents are linted once as the exact string template with E3051 off, and once with
    each Content parsed into an object so that E3051 validates every document's structure."""
    source = org_out / "templates" / "orgguard-documents.yaml"
    as_is = subprocess.run(
        [CFN_LINT, "--ignore-checks", "E3051", "--", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert as_is.returncode == 0, as_is.stdout + as_is.stderr
    template = yaml.safe_load(source.read_text())
    documents = [r for r in template["Resources"].values() if r["Type"] == "AWS::SSM::Document"]
    assert len(documents) == 4
    for resource in documents:
        resource["Properties"]["Content"] = json.loads(resource["Properties"]["Content"])
    parsed = tmp_path / "documents-parsed.json"
    parsed.write_text(json.dumps(template))
    result = _cfn_lint(parsed)
    assert result.returncode == 0, result.stdout + result.stderr


# A trust policy has no Resource element (IAM refuses one there); parliament reads every policy as an
# identity policy, so for trust policies exactly that one finding is expected and nothing else is.
TRUST_ONLY = "Statement contains neither Resource nor NotResource"


def _findings(policy: dict, *, trust: bool = False) -> list[str]:
    findings = analyze_policy_string(json.dumps(policy)).findings
    return [str(f) for f in findings if not (trust and f.issue == "MALFORMED" and TRUST_ONLY in str(f.detail))]


def test_every_manifest_policy_passes_parliament_with_no_findings(org_manifest):
    problems = {}
    for role in org_manifest.roles:
        problems[f"{role.name} trust"] = _findings(for_account(role.trust_policy, "123456789012"), trust=True)
        assert all("Resource" not in s for s in role.trust_policy["Statement"])
        for name, doc in role.permission_policies.items():
            problems[f"{role.name} {name}"] = _findings(for_account(doc, "123456789012"))
    problems["scp"] = _findings(org_manifest.scp.policy)
    assert len(problems) == 11
    assert not {k: v for k, v in problems.items() if v}


def test_account_mode_policies_as_synthesized_pass_parliament(account_out):
    checked = 0
    # The roles live in the shared global module; each account stack passes its own id as account_id.
    module = (account_out / "modules" / "orgguard-account-global" / "main.tf.json").read_text()
    for stack in sorted((account_out / "stacks").iterdir()):
        account = stack_json(account_out, stack.name)["module"]["orgguard_global"]["account_id"]
        resources = json.loads(module.replace("${var.account_id}", account))["resource"]
        for role in resources["aws_iam_role"].values():
            assert "${AWS::AccountId}" not in role["assume_role_policy"]
            assert not _findings(json.loads(role["assume_role_policy"]), trust=True), role["name"]
            checked += 1
        for policy in resources["aws_iam_role_policy"].values():
            assert not _findings(json.loads(policy["policy"])), policy["name"]
            checked += 1
    assert checked == 2 * 2 * 5  # two accounts, five roles, trust + permission each
