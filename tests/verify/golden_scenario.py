"""A deterministic sandbox deployment with one tamper per check kind, verified; rows named, not numbered.

Account ids are random per sandbox start, so each row names the account (``workload-a``, ``management``),
the OU or the region instead. ``python tests/verify/golden_scenario.py`` prints the rows as a Python list:
that is how ``test_golden.py``'s GOLDEN was captured from the verifier before the shared reads (commit
011752f, whose sandbox lacked DescribeConformancePackCompliance, so the fallback read was in use), so the
test proves the verifier after the change reports exactly what it reported before, row for row.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from any tree given on PYTHONPATH
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from orgguard.sandbox import Sandbox
from orgguard.verify import VerifyReport, verify
from tests.verify.org_deploy import deploy_org, restore_env, synth_for, use_sandbox_env

Row = tuple[str, str | None, str, str, str]  # check, control, account/OU name, region, status

TAMPERED_DOCUMENT = 0  # index in manifest.documents
LOCKED = "sandbox-b"


def tamper(sb: Sandbox, manifest: Any) -> None:
    """One change per kind an attacker in a member account could make, each in a different account."""
    names = {name: acct for acct, name in sb.org.account_names.items()}
    home, other = sb.org.regions[0], sb.org.regions[1]
    doc = manifest.documents[TAMPERED_DOCUMENT].name
    ssm = sb.session(names["workload-a"]).client("ssm", region_name=home)
    content = json.loads(ssm.get_document(Name=doc)["Content"])
    content["description"] = "tampered"
    version = ssm.update_document(Name=doc, Content=json.dumps(content), DocumentVersion="$LATEST")
    ssm.update_document_default_version(Name=doc, DocumentVersion=version["DocumentDescription"]["DocumentVersion"])
    cfg = sb.session(names["workload-b"]).client("config", region_name=other)
    for recorder in cfg.describe_configuration_recorders()["ConfigurationRecorders"]:
        cfg.stop_configuration_recorder(ConfigurationRecorderName=recorder["name"])
    iam = sb.session(names["sandbox-a"]).client("iam")
    role = manifest.roles[0].name
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"][:1]:
        iam.delete_role_policy(RoleName=role, PolicyName=policy)
    if manifest.fast_path is not None:
        events = sb.session(names["sandbox-a"]).client("events", region_name=manifest.fast_path.regions[0])
        rule = manifest.fast_path.route_rule_name(1)
        ids = [t["Id"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]]
        events.remove_targets(Rule=rule, Ids=ids)
    sb.lock_account(names[LOCKED])


def rows(sb: Sandbox, report: VerifyReport) -> list[Row]:
    org = sb.org
    label = {**org.account_names, org.management_account_id: "management"}
    label.update({ou: f"ou:{name}" for name, ou in org.ous.items()})
    label[org.root_id] = "root"
    return sorted(
        (r.check, r.control, label.get(r.account_id, r.account_id), r.region, r.status) for r in report.results
    )


def run(work: Path, workers: int = 4) -> tuple[list[Row], VerifyReport, Sandbox]:
    """Deploy, tamper and verify every member account, outside the target OUs too; returns the rows."""
    with Sandbox(work / "sandbox") as sb:
        previous = use_sandbox_env(sb)
        try:
            manifest, out = synth_for(sb, work)
            deploy_org(sb, manifest, out)
            tamper(sb, manifest)
            accounts = sorted(sb.org.accounts)
            report = verify(manifest, session=sb.session(), workers=workers, progress=False, accounts=accounts,
                            manifest_dir=out, max_attempts=3)
            return rows(sb, report), report, sb
        finally:
            restore_env(previous)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        found, _, _ = run(Path(tmp))
    print("GOLDEN: list[Row] = [")
    for row in found:
        print(f"    {row!r},")
    print("]")
