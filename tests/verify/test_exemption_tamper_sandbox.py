"""A member account that grants itself an exemption by editing the runbook document fails verification.

The approved exemptions travel inside the SG runbook document, so the document hash the verifier already
checks covers them: the edit shows up as a content mismatch in exactly that account and region.
"""

from __future__ import annotations

import json

from orgguard.verify import verify

from .conftest import Deployed
from .org_deploy import client, member_accounts


def test_a_self_granted_exemption_in_the_document_fails_only_that_accounts_document_check(deployed: Deployed) -> None:
    sb, manifest = deployed.sb, deployed.manifest
    account, region = member_accounts(sb)[0], sb.org.regions[0]
    (doc,) = [d for d in manifest.documents if d.runbook == "sg-revoke"]
    ssm = client(sb, account, "ssm", region)
    content = json.loads(ssm.get_document(Name=doc.name)["Content"])
    payload = content["mainSteps"][0]["inputs"]["InputPayload"]
    payload["ApprovedExemptions"].append(
        {"account_id": account, "security_group_id": "sg-0123456789abcdef0", "expires": "2099-12-31", "owner": "me"}
    )
    version = ssm.update_document(Name=doc.name, Content=json.dumps(content), DocumentVersion="$LATEST")
    ssm.update_document_default_version(
        Name=doc.name, DocumentVersion=version["DocumentDescription"]["DocumentVersion"]
    )

    report = verify(manifest, session=sb.session(), workers=8, progress=False, manifest_dir=deployed.out)

    failing = {r.key: r.status for r in report.results if r.status != "PASS"}
    assert failing == {(f"ssm-document:{doc.name}", "", account, region): "FAIL"}
    assert "content" in report.by_status("FAIL")[0].reason
    assert report.exit_code() == 1
