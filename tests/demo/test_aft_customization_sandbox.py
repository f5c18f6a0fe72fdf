"""The AFT example, applied as AFT applies it, into a vended account of the sandbox, then verified.

The customization (examples/aft-customization) gets the modules of an account-mode synth, AFT's jinja
rendering (the sandbox's OrganizationAccountAccessRole stands in for AWSAFTExecution), and real terraform
init + apply through the rendered providers; the verifier then checks that account against the manifest
of the same synth: the module called from AFT deploys exactly what the plan says.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from orgguard.sandbox import Sandbox
from orgguard.sandbox.terraform import _deployer_env, override
from orgguard.synth.build import synthesize
from orgguard.verify import verify
from tests.synth.test_aft_example import render_customization

ROOT = Path(__file__).resolve().parents[2]


def test_the_aft_customization_applies_and_the_account_verifies_clean(tmp_path: Path) -> None:
    saved = dict(os.environ)
    try:
        with Sandbox(tmp_path / "sandbox") as sb:
            os.environ.update(sb.env())
            account = sorted(a for a in sb.org.accounts if a != sb.org.delegated_admin_account_id)[0]
            data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
            data.update(mode="account", accounts=[account], scp={"protect_governance_resources": False})
            data["organization"]["delegated_admin_account_id"] = None
            data["exemptions"]["known"] = []  # the example's exemption names an account outside this sandbox
            config = tmp_path / "vending.yaml"
            config.write_text(yaml.safe_dump(data))
            manifest = synthesize(config, tmp_path / "out")
            terraform_dir = render_customization(
                tmp_path / "out", tmp_path / "ORGGUARD_BASELINE", account=account,
                home_region=sb.org.home_region, role="OrganizationAccountAccessRole",
            )
            providers = (terraform_dir / "aft-providers.tf").read_text()
            aliases = [None, *re.findall(r'alias\s+=\s+"([a-z0-9_]+)"', providers)]
            stand_in = {"provider": {"aws": [{"alias": a} if a else {} for a in aliases]}}
            (terraform_dir / "sandbox_override.tf.json").write_text(json.dumps(override(stand_in, sb.endpoint_url)))
            env = _deployer_env(sb, None)  # AFT's pipeline role: here the management account's credentials
            apply = ["apply", "-auto-approve", "-input=false", "-no-color"]
            for args in (["init", "-input=false", "-no-color"], apply):
                done = subprocess.run(["terraform", *args], cwd=terraform_dir, env=env, capture_output=True,
                                      text=True, timeout=900)
                assert done.returncode == 0, done.stderr[-3000:]
            report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
            assert {r.account_id for r in report.results} >= {account}
            assert [r for r in report.results if r.status != "PASS"] == []
            assert len([r for r in report.results if r.check == "remediation"]) == len(sb.org.regions) * 5
    finally:
        os.environ.clear()
        os.environ.update(saved)
