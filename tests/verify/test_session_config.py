"""Member sessions keep the base session's settings: the endpoint in its config file reaches every account.

Before: the assumed-role session was a fresh botocore session, so an ``endpoint_url`` (or ``ca_bundle``, FIPS
setting) that the caller's session held in its own config file or profile was lost, and every member call
went to the public endpoints. Without a route there, botocore retried each connection error up to ten
times: engineer B1 measured 43 s per run for two accounts (5.7 s with ``max_attempts=2``), every member
check UNVERIFIED "endpoint not reachable". The sandbox's sessions carry the endpoint exactly that way.
"""

from __future__ import annotations

import time

import pytest

from orgguard.verify import verify

from .conftest import Deployed
from .org_deploy import member_accounts


def test_member_checks_reach_the_endpoint_of_the_base_sessions_config_file(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deployed
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only the session's config file knows the endpoint now
    account = member_accounts(d.sb)[0]
    started = time.monotonic()
    report = verify(d.manifest, session=d.sb.session(), workers=4, progress=False, manifest_dir=d.out,
                    accounts=[account], regions=[d.sb.org.home_region])
    elapsed = time.monotonic() - started
    member = [r for r in report.results if r.account_id == account]
    assert member and {r.status for r in member} == {"PASS"}, [r.reason for r in member if r.status != "PASS"][:3]
    assert elapsed < 15, f"{elapsed:.1f} s: something is being retried"
