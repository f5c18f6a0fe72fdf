"""Account mode (account vending): a thin stack per account calling the baseline modules written once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from orgguard.stacks.account_module import GLOBAL_MODULE, REGIONAL_MODULE
from orgguard.synth.build import MANIFEST_FILE, synthesize
from tests.synth import legacy_account_layout
from tests.synth.conftest import ACCOUNT_EXAMPLE, ROOT, run_cli, stack_json

REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"]
ACCOUNTS = ["333333333333", "444444444444"]
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


def module_json(out: Path, name: str) -> dict:
    return json.loads((out / "modules" / name / "main.tf.json").read_text())


def _terraform(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# --- the thin account stack ----------------------------------------------------------------------


def test_one_thin_stack_per_vended_account_pinned_to_that_account(account_out):
    stacks = sorted(p.name for p in (account_out / "stacks").iterdir())
    assert stacks == [f"orgguard-account-{a}" for a in ACCOUNTS]
    for account in ACCOUNTS:
        tf = stack_json(account_out, f"orgguard-account-{account}")
        providers = tf["provider"]["aws"]
        assert {p["region"]: p["alias"] for p in providers} == {r: r.replace("-", "_") for r in REGIONS}
        for p in providers:
            assert p["allowed_account_ids"] == [account]
            assert p["assume_role"] == [
                {"role_arn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "session_name": "orgguard"}
            ]
        # No resource of its own (the old layout had all 64 here): only the module calls.
        assert "resource" not in tf
        calls = tf["module"]
        assert calls["orgguard_global"] == {
            "source": f"../../modules/{GLOBAL_MODULE}",
            "providers": {"aws": "aws.us_east_1"},  # IAM is global: the home region's provider
            "account_id": account,
        }
        for region in REGIONS:
            assert calls[f"orgguard_{region.replace('-', '_')}"] == {
                "source": f"../../modules/{REGIONAL_MODULE}",
                "providers": {"aws": f"aws.{region.replace('-', '_')}"},
                "account_id": account,
                "region": region,
                "role_arns": "${module.orgguard_global.role_arns}",  # the roles come first
            }
        assert len(calls) == 1 + len(REGIONS)


def test_the_baseline_is_written_once_with_no_provider_configuration_inside(account_out):
    modules = sorted(p.name for p in (account_out / "modules").iterdir())
    assert modules == [GLOBAL_MODULE, REGIONAL_MODULE]
    for name in modules:
        doc = module_json(account_out, name)
        assert "provider" not in doc and '"assume_role"' not in json.dumps(doc)  # the caller's provider is used
        assert doc["terraform"]["required_providers"]["aws"]["source"] == "hashicorp/aws"
        assert doc["variable"]["account_id"]["type"] == "string"
    total = sum(p.stat().st_size for p in (account_out / "stacks").rglob("cdk.tf.json"))
    assert total < 2 * 20_000  # each account stack is a few KB; the 64 resources lived there before (184 KB)


def test_global_module_holds_the_roles_once_and_outputs_their_arns(account_out):
    g = module_json(account_out, GLOBAL_MODULE)
    res = g["resource"]
    assert set(res) == {"aws_iam_role", "aws_iam_role_policy"}
    assert len(res["aws_iam_role"]) == 5 and len(res["aws_iam_role_policy"]) == 5
    revoke = res["aws_iam_role"]["role-orgguard-sg-revoke"]
    trust = json.loads(revoke["assume_role_policy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "${var.account_id}"}
    assert "AWS::AccountId" not in json.dumps(res)  # the manifest's placeholder never reaches Terraform
    outputs = g["output"]["role_arns"]
    assert outputs["value"]["orgguard-sg-revoke"] == "${aws_iam_role.role-orgguard-sg-revoke.arn}"
    assert set(outputs["depends_on"]) >= {f"aws_iam_role_policy.{n}" for n in res["aws_iam_role_policy"]}


def test_regional_module_binds_every_rule_to_its_runbook_and_depends_on_the_roles(account_out):
    res = module_json(account_out, REGIONAL_MODULE)["resource"]
    assert len(res["aws_config_config_rule"]) == 5
    assert len(res["aws_config_remediation_configuration"]) == 5
    assert len(res["aws_ssm_document"]) == 4
    assert "aws_iam_role" not in res  # IAM is global: once per account, never per region
    ssh = res["aws_config_remediation_configuration"]["remediation-restricted-ssh"]
    assert ssh["config_rule_name"] == "${aws_config_config_rule.rule-restricted-ssh.name}"
    assert ssh["automatic"] is True and ssh["target_id"] == "orgguard-RevokePublicSgIngress"
    assert ssh["depends_on"] == ["aws_ssm_document.document-orgguard-RevokePublicSgIngress", "var.role_arns"]
    # As the provider reads them back (sorted, one value as static_value), so a plan after apply shows no change.
    assert [p["name"] for p in ssh["parameter"]] == sorted(p["name"] for p in ssh["parameter"])
    params = {p["name"]: p for p in ssh["parameter"]}
    assert params["GroupId"] == {"name": "GroupId", "resource_value": "RESOURCE_ID"}
    assert params["AutomationAssumeRole"] == {
        "name": "AutomationAssumeRole", "static_value": "arn:aws:iam::${var.account_id}:role/orgguard-sg-revoke"
    }


def test_fast_path_targets_start_the_runbook_of_their_own_account_and_region(account_out):
    res = module_json(account_out, REGIONAL_MODULE)["resource"]
    targets = list(res["aws_cloudwatch_event_target"].values())
    assert len(targets) == 2  # two CloudTrail event shapes, per region instance
    for t in targets:
        assert t["arn"] == (
            "arn:aws:ssm:${var.region}:${var.account_id}:automation-definition/orgguard-RevokePublicSgIngress:$DEFAULT"
        )
        assert t["role_arn"] == "arn:aws:iam::${var.account_id}:role/orgguard-fast-path"
        assert "var.role_arns" in t["depends_on"]
        template = json.loads(t["input_transformer"]["input_template"])
        assert template["GroupId"] == ["<groupId>"]
        assert template["RestrictedPorts"] == ["20", "21", "22", "3306", "3389", "4333"]


def test_account_mode_has_no_organization_resources(account_out):
    for name in (GLOBAL_MODULE, REGIONAL_MODULE):
        types = set(module_json(account_out, name)["resource"])
        assert not {t for t in types if "organization" in t or "stack_set" in t or "controltower" in t}


# --- the same Terraform as before, and the way there ---------------------------------------------


@pytest.fixture(scope="module")
def legacy_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("legacy") / "cdktf.out"
    legacy_account_layout.synthesize_legacy(ACCOUNT_EXAMPLE, out)
    return out


def test_the_legacy_layout_helper_is_the_committed_old_code():
    """The upgrade tests are only as good as their copy of the old layout: compare it with git history."""
    shown = subprocess.run(
        ["git", "show", f"{legacy_account_layout.LAST_COMMIT}:stacks/account.py"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if shown.returncode != 0:
        pytest.skip(f"git history without {legacy_account_layout.LAST_COMMIT}: {shown.stderr.strip()[:100]}")
    old = shown.stdout.split("class AccountStack(TerraformStack):", 1)[1].strip()
    copy = Path(legacy_account_layout.__file__).read_text()
    copy = copy.split("class LegacyAccountStack(TerraformStack):", 1)[1].split("# --- end of the verbatim")[0]
    assert copy.strip() == old


def test_moved_blocks_cover_every_address_of_the_old_layout_exactly(account_out, legacy_out):
    for account in ACCOUNTS:
        name = f"orgguard-account-{account}"
        old = stack_json(legacy_out, name)["resource"]
        old_addresses = {f"{t}.{n}" for t, by in old.items() for n in by}
        assert len(old_addresses) == 64
        moved = stack_json(account_out, name)["moved"]
        assert {b["from"] for b in moved} == old_addresses
        modules = {"orgguard_global": GLOBAL_MODULE, **{f"orgguard_{r.replace('-', '_')}": REGIONAL_MODULE
                                                         for r in REGIONS}}
        for block in moved:
            _, instance, rtype, rname = block["to"].split(".")
            assert rname in module_json(account_out, modules[instance])["resource"][rtype], block


OFFLINE_PROVIDER = {  # credentials-free planning, as tests/synth/test_constructs.py does
    "access_key": "plan-only", "secret_key": "plan-only", "skip_credentials_validation": True,
    "skip_requesting_account_id": True, "skip_metadata_api_check": "true", "allowed_account_ids": None,
    "assume_role": [{"role_arn": ""}],
}


def _planned(out: Path, stack: str, work: Path) -> dict[str, dict]:
    """`terraform plan` (offline) of one stack of `out`: {address: planned values} across modules."""
    shutil.copytree(out, work, ignore=shutil.ignore_patterns("hcl"))
    stack_dir = work / "stacks" / stack
    aliases = [p["alias"] for p in stack_json(work, stack)["provider"]["aws"]]
    (stack_dir / "zz_offline_override.tf.json").write_text(
        json.dumps({"provider": {"aws": [{**OFFLINE_PROVIDER, "alias": a} for a in aliases]}})
    )
    for args in (["init", "-input=false", "-no-color"], ["plan", "-refresh=false", "-input=false", "-out=p.bin"]):
        result = _terraform(args, stack_dir)
        assert result.returncode == 0, result.stderr[-3000:]
    shown = json.loads(_terraform(["show", "-json", "p.bin"], stack_dir).stdout)
    found: dict[str, dict] = {}

    def walk(module: dict) -> None:
        for r in module.get("resources", []):
            if r["mode"] == "managed":
                found[r["address"]] = r["values"]
        for child in module.get("child_modules", []):
            walk(child)

    walk(shown["planned_values"]["root_module"])
    return found


@needs_terraform
def test_terraform_plans_the_same_resources_as_the_old_layout_at_the_moved_addresses(account_out, legacy_out, tmp_path):
    """What Terraform itself makes of both layouts: every value equal, account ids and regions filled in."""
    stack = "orgguard-account-444444444444"
    new = _planned(account_out, stack, tmp_path / "new")
    old = _planned(legacy_out, stack, tmp_path / "old")
    moves = {b["from"]: b["to"] for b in stack_json(account_out, stack)["moved"]}
    assert len(old) == 64 and set(new) == {moves[a] for a in old}
    for address, values in old.items():
        assert new[moves[address]] == values, address
    target = new["module.orgguard_eu_west_1.aws_cloudwatch_event_target.fast-path-target-1"]
    assert target["arn"].startswith("arn:aws:ssm:eu-west-1:444444444444:automation-definition/")


# --- a careless caller -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def caller_root(account_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root module beside a copy of the modules, initialized once, with an offline provider for eu-west-1."""
    base = tmp_path_factory.mktemp("caller")
    shutil.copytree(account_out / "modules", base / "modules")
    root = base / "root"
    root.mkdir()
    _write_call(root, account_out)
    assert _terraform(["init", "-input=false", "-no-color"], root).returncode == 0
    return root


def _write_call(root: Path, account_out: Path, calls: dict[str, dict] | None = None) -> None:
    """One consistent call of the regional module, or one instance per entry of `calls` (its changed args)."""
    roles = module_json(account_out, GLOBAL_MODULE)["output"]["role_arns"]["value"]
    call = {"source": f"../modules/{REGIONAL_MODULE}", "account_id": "444444444444", "region": "eu-west-1",
            "role_arns": {name: f"arn:aws:iam::444444444444:role/{name}" for name in roles}}
    provider = {k: v for k, v in OFFLINE_PROVIDER.items() if k not in ("assume_role", "allowed_account_ids")}
    modules = {name: {**call, **args} for name, args in (calls or {"r": {}}).items()}
    doc = {"provider": {"aws": {**provider, "region": "eu-west-1"}}, "module": modules}
    (root / "main.tf.json").write_text(json.dumps(doc))


# Module instance -> (what a careless caller got wrong, the refusal). Terraform checks variables before it
# plans anything, so the two kinds are planned apart: inputs that are malformed, and inputs that are
# well-formed but contradict the provider the module was given.
MALFORMED = {
    "bad_account_id": ({"account_id": "44444444444"}, "account_id must be a 12-digit AWS account id"),
    "missing_roles": ({"role_arns": {"orgguard-sg-revoke": "arn:aws:iam::444444444444:role/orgguard-sg-revoke"}},
                      "role_arns must name every runbook role"),
}
CONTRADICTING = {
    "wrong_region": ({"region": "us-east-1"}, "region is not the region of the provider"),
    "wrong_account": ({"account_id": "555555555555"}, "role_arns name roles of another account than account_id"),
}


@needs_terraform
def test_the_regional_module_refuses_a_call_that_contradicts_its_provider(account_out, caller_root):
    """Think of an AFT author who copies a module block and edits half of it: the plan stops, naming why."""
    _write_call(caller_root, account_out)
    clean = _terraform(["plan", "-refresh=false", "-input=false", "-no-color"], caller_root)
    assert clean.returncode == 0, clean.stderr[-2000:]
    assert "18 to add" in clean.stdout  # 4 documents, 5 rules, 5 bindings, 2 x (event rule + target)
    for cases in (MALFORMED, CONTRADICTING):
        _write_call(caller_root, account_out, calls={name: args for name, (args, _) in cases.items()})
        assert _terraform(["init", "-input=false", "-no-color"], caller_root).returncode == 0  # new instance names
        careless = _terraform(["plan", "-refresh=false", "-input=false", "-no-color"], caller_root)
        assert careless.returncode != 0
        errors = " ".join(careless.stderr.split())
        for name, (_, message) in cases.items():
            assert message in errors, f"{name}: {careless.stderr[-3000:]}"


# --- one account per pipeline step ---------------------------------------------------------------


def test_synth_account_writes_only_that_account_and_the_same_manifest(account_out, tmp_path):
    out = tmp_path / "one"
    done = run_cli("synth", "--config", str(ACCOUNT_EXAMPLE), "--out", str(out), "--account", ACCOUNTS[1])
    assert done.returncode == 0, done.stderr
    assert "1 of 2 stack(s)" in done.stdout
    assert sorted(p.name for p in (out / "stacks").iterdir()) == [f"orgguard-account-{ACCOUNTS[1]}"]
    assert (out / MANIFEST_FILE).read_bytes() == (account_out / MANIFEST_FILE).read_bytes()  # same plan, same hash
    for name in (GLOBAL_MODULE, REGIONAL_MODULE):
        assert module_json(out, name) == module_json(account_out, name)
    name = f"orgguard-account-{ACCOUNTS[1]}"
    assert stack_json(out, name) == stack_json(account_out, name)


def test_a_prefix_holding_the_modules_stand_in_is_refused_in_one_line(tmp_path):
    """The modules are written from a placement for a stand-in account and region; a plan that already
    contains the stand-in text would be parametrized wrongly, so it is refused instead."""
    data = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    data["name_prefix"] = "orgguard-stand-in-region"
    config = tmp_path / "prefix.yaml"
    config.write_text(yaml.safe_dump(data))
    done = run_cli("synth", "--config", str(config), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert "name_prefix: contains 'orgguard-stand-in-region', reserved" in done.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("config", "account", "expected"),
    [
        (ACCOUNT_EXAMPLE, "555555555555", "--account 555555555555: not in accounts; add it to accounts: or pick one"),
        (ROOT / "governance.yaml", "333333333333", "--account 333333333333: only for mode: account"),
    ],
    ids=["unknown-account", "organization-mode"],
)
def test_synth_account_refuses_what_it_cannot_write_and_leaves_the_output(tmp_path, config, account, expected):
    out = tmp_path / "out"
    synthesize(ACCOUNT_EXAMPLE, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    done = run_cli("synth", "--config", str(config), "--out", str(out), "--account", account)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and expected in lines[0] and "Traceback" not in done.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
