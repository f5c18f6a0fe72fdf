"""Remediation switched off by Config's own exception, and findings it did not close (review items 1 and 3).

A member that makes the runbook fail gets a RemediationException written by Config itself, and an expired
exemption is not remediated until the group changes; in both cases every other check stays PASS. Before
exceptions.py the verifier read neither (`grep RemediationException orgguard/verify` found nothing), so the
FAIL rows asserted here did not exist and each test failed.
"""

from __future__ import annotations

import datetime as dt

from orgguard.manifest import Exemption
from orgguard.verify import VerifyReport, verify
from tests.sandbox.shapes import ShapeRecorder

from .conftest import Deployed
from .org_deploy import client, member_accounts

SSH = "restricted-ssh"


def _run(d: Deployed, manifest=None) -> VerifyReport:
    return verify(manifest or d.manifest, session=d.sb.session(), workers=8, progress=False, manifest_dir=d.out)


def _real_rule(d: Deployed, account: str, region: str, control_id: str = SSH) -> str:
    rule = next(c.rule.name for c in d.manifest.controls if c.id == control_id)
    names = [
        r["ConfigRuleName"] for r in client(d.sb, account, "config", region).describe_config_rules()["ConfigRules"]
    ]
    return next(n for n in names if n.startswith(f"{rule}-conformance-pack-"))


def _not_passing(report: VerifyReport) -> dict[tuple[str, str, str, str], object]:
    return {r.key: r for r in report.results if r.status != "PASS"}


def _evaluate(d: Deployed, account: str, region: str, rule: str, group: str) -> None:
    """What Config records after evaluating the group (the sandbox evaluates nothing itself)."""
    d.sb._control(
        "config/evaluation",
        {"account_id": account, "region": region, "config_rule_name": rule, "resource_id": group,
         "compliance_type": "NON_COMPLIANT"},
    )  # fmt: skip


def test_a_remediation_exception_fails_its_rule_naming_the_groups_and_only_there(deployed: Deployed) -> None:
    d = deployed
    account, home = member_accounts(d.sb)[0], d.sb.org.regions[0]
    rule = _real_rule(d, account, home)
    cfg = client(d.sb, account, "config", home)
    recorder = ShapeRecorder(cfg)
    groups = [f"sg-{i:017x}" for i in range(101)]  # more than one page of 100
    for start in (0, 100):
        cfg.put_remediation_exceptions(
            ConfigRuleName=rule,
            ResourceKeys=[
                {"ResourceType": "AWS::EC2::SecurityGroup", "ResourceId": g} for g in groups[start : start + 100]
            ],
            Message="Auto-remediation failed 3 times",
        )
    first = cfg.describe_remediation_exceptions(ConfigRuleName=rule, Limit=100)
    assert len(first["RemediationExceptions"]) == 100 and first["NextToken"]
    assert recorder.errors == [] and "DescribeRemediationExceptions" in recorder.checked
    report = _run(d)
    bad = _not_passing(report)
    assert set(bad) == {("remediation-exceptions", SSH, account, home)}, list(bad)
    result = bad[("remediation-exceptions", SSH, account, home)]
    assert result.status == "FAIL" and groups[0] in result.reason and "and 96 more" in result.reason
    assert len(result.actual) == 101  # both pages read
    passing = {r.key for r in report.results if r.check == "remediation-exceptions"}
    assert ("remediation-exceptions", SSH, member_accounts(d.sb)[1], home) in passing


def test_a_non_compliant_group_without_a_valid_exemption_fails_remediation_did_not_close_it(
    deployed: Deployed,
) -> None:
    d = deployed
    a, b = member_accounts(d.sb)[:2]
    home = d.sb.org.regions[0]
    rule = _real_rule(d, b, home)
    lapsed = Exemption(
        account_id=b, security_group_id="sg-0000000000000aaaa", owner="team-a", reason="migration", expires="2020-01-31"
    )
    valid = Exemption(
        account_id=b, security_group_id="sg-0000000000000bbbb", owner="team-b", reason="vendor", expires="2099-12-31"
    )
    elsewhere = Exemption(  # approved for another account: no cover for the same id in b
        account_id=a, security_group_id="sg-0000000000000cccc", owner="team-c", reason="vendor", expires="2099-12-31"
    )
    manifest = d.manifest.model_copy(update={"exemptions": [lapsed, valid, elsewhere]})
    for group in ("sg-0000000000000aaaa", "sg-0000000000000bbbb", "sg-0000000000000cccc"):
        _evaluate(d, b, home, rule, group)
    cfg = client(d.sb, b, "config", home)
    recorder = ShapeRecorder(cfg)
    details = cfg.get_compliance_details_by_config_rule(ConfigRuleName=rule, ComplianceTypes=["NON_COMPLIANT"])
    assert len(details["EvaluationResults"]) == 3 and recorder.errors == []
    bad = _not_passing(_run(d, manifest))
    assert set(bad) == {("noncompliant-resources", SSH, b, home)}, list(bad)
    reason = bad[("noncompliant-resources", SSH, b, home)].reason
    assert "remediation did not close it" in reason
    assert "sg-0000000000000aaaa (its exemption expired on 2020-01-31)" in reason
    assert "sg-0000000000000cccc (no approved exemption)" in reason
    assert "sg-0000000000000bbbb" not in reason  # approved and valid: kept, as the runbook keeps it


def test_the_expiry_day_is_still_exempt_and_the_next_day_is_not(deployed: Deployed) -> None:
    from orgguard.verify import DEFAULT_ROLE, exceptions
    from orgguard.verify.aws import CallCounter, SessionPool
    from orgguard.verify.context import OrgFacts, Target

    d = deployed
    b, home = member_accounts(d.sb)[1], d.sb.org.regions[0]
    manifest = d.manifest.model_copy(update={"mode": "account"})  # exact rule names: no pack status needed
    rule = _real_rule(d, b, home)
    control = next(c for c in manifest.controls if c.id == SSH)
    control = control.model_copy(update={"rule": control.rule.model_copy(update={"name": rule})})
    group = "sg-0000000000000dddd"
    manifest = manifest.model_copy(
        update={
            "exemptions": [
                Exemption(account_id=b, security_group_id=group, owner="o", reason="r", expires="2030-06-30")
            ]
        }
    )
    _evaluate(d, b, home, rule, group)
    pool = SessionPool(d.sb.session(), role_name=DEFAULT_ROLE, external_id=None,
                       counter=CallCounter(), workers=1)  # fmt: skip
    target = Target(manifest, pool, b, home, OrgFacts())
    on_the_day = exceptions.check_open(target, control, today=lambda: dt.date(2030, 6, 30))
    day_after = exceptions.check_open(target, control, today=lambda: dt.date(2030, 7, 1))
    assert on_the_day.status == "PASS" and day_after.status == "FAIL"
    assert "expired on 2030-06-30" in day_after.reason
