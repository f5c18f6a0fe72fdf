"""The fake organization: what it looks like, and how it is built inside a fresh moto server.

Shaped like a Control Tower landing zone, because that is where a plan meets AWS: a Security OU
holding the audit account (the delegated administrator) and the log-archive account, which a plan
does not target, and workload OUs that it does. Built through the real APIs (Organizations, STS,
Config) so the result is exactly what a client would see; each member is reached through
OrganizationAccountAccessRole and has Control Tower's Config recorder on in every region. The
management account has no recorder: Control Tower does not enroll it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3

MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's account for unknown (dummy) access keys
MANAGEMENT_ACCESS_KEY = "testing"
MANAGEMENT_SECRET_KEY = "testing"
MEMBER_ROLE = "OrganizationAccountAccessRole"
HOME_REGION = "us-east-1"
REGIONS = ("us-east-1", "eu-west-1")
RECORDER_NAME = "aws-controltower-BaselineConfigRecorder"
DELIVERY_CHANNEL_NAME = "aws-controltower-BaselineConfigDeliveryChannel"
DELEGATED_SERVICES = (
    "config-multiaccountsetup.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
)
TRUSTED_SERVICES = (*DELEGATED_SERVICES, "config.amazonaws.com", "controltower.amazonaws.com")

SECURITY_OU = "security"  # Control Tower's foundational OU: audit + log archive, not a plan target
AUDIT_ACCOUNT = "audit"  # delegated administrator for Config and StackSets, as landing zones set it up
LOG_ARCHIVE_ACCOUNT = "log-archive"
TARGET_OU_NAMES = ("workloads", "sandboxes")  # what Sandbox.governance_yaml() targets
# (account name, OU name)
LAYOUT: tuple[tuple[str, str], ...] = (
    (AUDIT_ACCOUNT, SECURITY_OU),
    (LOG_ARCHIVE_ACCOUNT, SECURITY_OU),
    ("workload-a", "workloads"),
    ("workload-b", "workloads"),
    ("sandbox-a", "sandboxes"),
    ("sandbox-b", "sandboxes"),
)


@dataclass(frozen=True)
class FakeOrg:
    """Ids of the organization the sandbox created (random per start, like a real org)."""

    organization_id: str
    root_id: str
    management_account_id: str
    delegated_admin_account_id: str
    ous: dict[str, str]  # OU name -> OU id
    accounts: dict[str, str]  # member account id -> parent OU id
    home_region: str
    regions: tuple[str, ...]
    account_names: dict[str, str] = field(default_factory=dict)  # member account id -> name
    target_ous: tuple[str, ...] = ()  # OU ids a plan targets (the workload OUs, not Security)
    log_archive_account_id: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FakeOrg:
        data: dict[str, Any] = json.loads(text)
        data["regions"] = tuple(data["regions"])
        data["target_ous"] = tuple(data.get("target_ous") or ())
        return cls(**data)

    def target_accounts(self) -> list[str]:
        """Members under the target OUs: where StackSets put the runbooks (sorted)."""
        return sorted(a for a, ou in self.accounts.items() if ou in self.target_ous)

    def outside_target_accounts(self) -> list[str]:
        """Members outside the target OUs (audit, log archive): a pack must exclude them (sorted)."""
        return sorted(a for a, ou in self.accounts.items() if ou not in self.target_ous)

    def ou_arn(self, ou_id: str) -> str:
        return f"arn:aws:organizations::{self.management_account_id}:ou/{self.organization_id}/{ou_id}"


def _management_session(endpoint_url: str, region: str) -> boto3.Session:
    del endpoint_url
    return boto3.Session(
        aws_access_key_id=MANAGEMENT_ACCESS_KEY,
        aws_secret_access_key=MANAGEMENT_SECRET_KEY,
        region_name=region,
    )


def _member_credentials(sts: Any, account_id: str) -> dict[str, str]:
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}", RoleSessionName="orgguard-sandbox"
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def _turn_on_recorder(config: Any, account_id: str, region: str, home_region: str) -> None:
    """Control Tower's baseline recorder: all supported types, global types in the home region."""
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": RECORDER_NAME,
            "roleARN": f"arn:aws:iam::{account_id}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region == home_region},
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={
            "name": DELIVERY_CHANNEL_NAME,
            "s3BucketName": f"aws-controltower-logs-{account_id}-{region}",
        }
    )
    config.start_configuration_recorder(ConfigurationRecorderName=RECORDER_NAME)


def bootstrap(endpoint_url: str) -> FakeOrg:
    """Create the organization, its OUs and members, and turn Config on everywhere."""
    mgmt = _management_session(endpoint_url, HOME_REGION)
    orgs = mgmt.client("organizations", endpoint_url=endpoint_url)
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    for service in TRUSTED_SERVICES:
        orgs.enable_aws_service_access(ServicePrincipal=service)
    ous: dict[str, str] = {}
    accounts: dict[str, str] = {}
    names: dict[str, str] = {}
    for name, ou_name in LAYOUT:
        if ou_name not in ous:
            ous[ou_name] = orgs.create_organizational_unit(ParentId=root_id, Name=ou_name)["OrganizationalUnit"]["Id"]
        status = orgs.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        account_id = status["AccountId"]
        orgs.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ous[ou_name])
        accounts[account_id] = ous[ou_name]
        names[account_id] = name
    by_name = {name: account_id for account_id, name in names.items()}
    delegated_admin = by_name[AUDIT_ACCOUNT]
    for service in DELEGATED_SERVICES:
        orgs.register_delegated_administrator(AccountId=delegated_admin, ServicePrincipal=service)
    sts = mgmt.client("sts", endpoint_url=endpoint_url)
    for account_id in accounts:
        member = boto3.Session(**_member_credentials(sts, account_id))
        for region in REGIONS:
            config = member.client("config", region_name=region, endpoint_url=endpoint_url)
            _turn_on_recorder(config, account_id, region, HOME_REGION)
    return FakeOrg(
        organization_id=org["Id"],
        root_id=root_id,
        management_account_id=org["MasterAccountId"],
        delegated_admin_account_id=delegated_admin,
        ous=ous,
        accounts=accounts,
        home_region=HOME_REGION,
        regions=REGIONS,
        account_names=names,
        target_ous=tuple(ous[name] for name in TARGET_OU_NAMES),
        log_archive_account_id=by_name[LOG_ARCHIVE_ACCOUNT],
    )
