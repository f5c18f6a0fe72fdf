"""The reads the verifier shares, and the sandbox's DescribeConformancePackCompliance it now relies on.

Before: the sandbox answered DescribeConformancePackCompliance with 501 and the verifier fell back to listing
every rule Config's conformance-pack service created; each document was read with GetDocument in every account
and region. Now the pack's rules come from the pack, and an account whose SSM-reported SHA-256 equals content
this run already read and found to be the manifest's needs no GetDocument.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from orgguard.verify import VerifyReport, verify
from tests.sandbox.shapes import ShapeRecorder

from .conftest import Deployed
from .org_deploy import member_accounts


def _member_pack(d: Deployed, account: str, region: str) -> str:
    pack = next(p for p in d.manifest.conformance_packs if p.region == region)
    admin = d.sb.session(d.manifest.organization.deployer_account_id).client("config", region_name=region)
    rows = admin.get_organization_conformance_pack_detailed_status(
        OrganizationConformancePackName=pack.name, Filters={"AccountId": account}
    )["OrganizationConformancePackDetailedStatuses"]
    return str(rows[0]["ConformancePackName"])


def _config(d: Deployed, account: str, region: str) -> Any:
    no_retry = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return d.sb.session(account).client("config", region_name=region, config=no_retry)


def test_sandbox_lists_a_member_packs_rules_across_pages_shaped_like_botocore(deployed: Deployed) -> None:
    d = deployed
    account, region = member_accounts(d.sb)[0], d.sb.org.regions[0]
    config = _config(d, account, region)
    shapes = ShapeRecorder(config)
    member_pack = _member_pack(d, account, region)
    pages = list(config.get_paginator("describe_conformance_pack_compliance").paginate(
        ConformancePackName=member_pack, PaginationConfig={"PageSize": 2}))  # fmt: skip
    listed = [r for page in pages for r in page["ConformancePackRuleComplianceList"]]
    pack_rules = sorted(
        r["ConfigRuleName"] for page in config.get_paginator("describe_config_rules").paginate()
        for r in page["ConfigRules"] if "-conformance-pack-" in r["ConfigRuleName"]
    )  # fmt: skip
    assert sorted(r["ConfigRuleName"] for r in listed) == pack_rules and len(pack_rules) >= 3
    assert len(pages) == (len(pack_rules) + 1) // 2
    assert {r["ComplianceType"] for r in listed} == {"INSUFFICIENT_DATA"}  # the sandbox evaluates nothing
    assert all(p["ConformancePackName"] == member_pack for p in pages)
    assert "DescribeConformancePackCompliance" in shapes.checked
    assert [e for e in shapes.errors if e.startswith("DescribeConformancePackCompliance")] == []


REFUSALS = [
    ({"ConformancePackName": "OrgConformsPack-nope-12345678"}, "NoSuchConformancePackException"),
    ({"Filters": {"ConfigRuleNames": ["not-in-the-pack"]}}, "NoSuchConfigRuleInConformancePackException"),
    ({"Filters": {"ComplianceType": "INSUFFICIENT_DATA"}}, "InvalidParameterValueException"),  # "not supported"
]


def test_sandbox_refuses_what_aws_refuses_with_a_4xx_and_hides_other_accounts_packs(deployed: Deployed) -> None:
    d = deployed
    first, second = member_accounts(d.sb)[:2]
    region = d.sb.org.regions[0]
    config = _config(d, first, region)
    member_pack = _member_pack(d, first, region)
    for kwargs, code in REFUSALS:
        with pytest.raises(ClientError) as raised:
            config.describe_conformance_pack_compliance(**{"ConformancePackName": member_pack, **kwargs})
        assert raised.value.response["Error"]["Code"] == code
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # never a retried 5xx
    with pytest.raises(ClientError, match="NoSuchConformancePackException"):
        _config(d, second, region).describe_conformance_pack_compliance(ConformancePackName=member_pack)


def _operations(report: VerifyReport) -> Counter[str]:
    found: Counter[str] = Counter()
    for (_, operation), n in report.api_operations.items():
        found[operation] += n
    return found


def test_verifier_reads_the_packs_rules_from_the_pack_and_each_document_content_once(deployed: Deployed) -> None:
    d = deployed
    accounts = member_accounts(d.sb)
    report = verify(d.manifest, session=d.sb.session(), workers=1, progress=False, manifest_dir=d.out)
    assert {r.status for r in report.results} == {"PASS"}, [r.reason for r in report.results if r.status != "PASS"]
    ops = _operations(report)
    targets = len(accounts) * len(d.manifest.organization.regions)
    assert ops["config:DescribeConformancePackCompliance"] == targets  # one pack per region, one page
    assert ops["config:DescribeConfigRules"] == targets  # the rules' details only, no listing of every rule
    documents = sum(len(doc.regions) for doc in d.manifest.documents)
    assert ops["ssm:DescribeDocument"] == documents * len(accounts)
    # Before: GetDocument in every account and region (documents x accounts). Now once per distinct content.
    assert ops["ssm:GetDocument"] == len(d.manifest.documents)


def test_a_tampered_document_fails_even_after_its_genuine_twin_was_read(deployed: Deployed) -> None:
    d = deployed
    *genuine, tampered = member_accounts(d.sb)
    region = d.sb.org.regions[0]
    doc = d.manifest.documents[0].name
    ssm = d.sb.session(tampered).client("ssm", region_name=region)
    content = json.loads(ssm.get_document(Name=doc)["Content"])
    content["description"] = "runs something else"
    new = ssm.update_document(Name=doc, Content=json.dumps(content), DocumentVersion="$LATEST")
    ssm.update_document_default_version(Name=doc, DocumentVersion=new["DocumentDescription"]["DocumentVersion"])
    report = verify(d.manifest, session=d.sb.session(), workers=1, progress=False, manifest_dir=d.out,
                    accounts=[*genuine, tampered], regions=[region])  # the tampered one is read last
    docs = {r.account_id: r for r in report.results if r.check == f"ssm-document:{doc}"}
    assert docs[tampered].status == "FAIL" and "content" in docs[tampered].reason
    assert {docs[a].status for a in genuine} == {"PASS"}
