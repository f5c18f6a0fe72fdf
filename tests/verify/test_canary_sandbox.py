"""The canary over HTTP: open shapes revoked, survivors kept, and nothing left behind even on failure."""

from __future__ import annotations

from orgguard.verify.canary import CANARY_TAG, restricted_ports, run_canary, shapes

from .conftest import Deployed
from .org_deploy import client, member_accounts


def _leftovers(d: Deployed, account: str, region: str) -> list[str]:
    ec2 = client(d.sb, account, "ec2", region)
    tagged = [{"Name": "tag-key", "Values": [CANARY_TAG]}]
    groups = ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]
    vpcs = ec2.describe_vpcs(Filters=tagged)["Vpcs"]
    return [g["GroupId"] for g in groups] + [v["VpcId"] for v in vpcs]


def test_canary_revokes_open_shapes_keeps_the_rest_and_cleans_up(deployed: Deployed) -> None:
    account, region = member_accounts(deployed.sb)[0], deployed.sb.org.home_region
    result = run_canary(
        deployed.manifest, session=deployed.sb.session(), account_id=account, region=region, timeout=120
    )
    assert result.passed, result.render()
    revoked = {o.shape for o in result.outcomes if o.expected == "revoked"}
    kept = {o.shape for o in result.outcomes if o.expected == "kept"}
    assert {"tcp 22 from 0.0.0.0/0", "tcp 22 from ::/0", "all TCP from ::/0", "all traffic from 0.0.0.0/0"} <= revoked
    assert "tcp 22 from 0.0.0.0/0 on a group tagged exempt, not approved" in revoked  # a tag never exempts
    assert {"tcp 22 from 10.0.0.0/8", "udp 22 from 0.0.0.0/0"} <= kept
    assert all(status == "Success" for _, _, status in result.executions)
    assert _leftovers(deployed, account, region) == []
    assert "PASSED" in result.render()


def test_canary_fails_and_still_cleans_up_when_the_runbook_is_missing(deployed: Deployed) -> None:
    account, region = member_accounts(deployed.sb)[1], deployed.sb.org.home_region
    client(deployed.sb, account, "ssm", region).delete_document(Name="orgguard-RevokePublicSgIngress")
    result = run_canary(deployed.manifest, session=deployed.sb.session(), account_id=account, region=region, timeout=60)
    assert not result.passed
    assert result.error
    assert _leftovers(deployed, account, region) == []
    assert "FAILED" in result.render()


def test_shapes_cover_every_restricted_port_family() -> None:
    from .factory import make_manifest

    ports = restricted_ports(make_manifest())
    assert ports == [20, 21, 22, 3389]
    names = [s.name for s in shapes(ports)]
    assert "tcp 21-23 from 0.0.0.0/0" in names
    assert "tcp 443 from 0.0.0.0/0" in names
    assert sum(s.must_revoke for s in shapes(ports)) == 8  # incl. the group tagged exempt, not approved
