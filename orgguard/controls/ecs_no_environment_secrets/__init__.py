"""ECS.8: no secret is passed as a plain container environment variable. Off by default; approval-only.

Detection is AWS Config's managed ECS_NO_ENVIRONMENT_SECRETS. Its one parameter, secretKeys (Type CSV, not
marked optional; moto's copy of AWS's list marks it required), is the list of variable names that count as
secrets. Page: https://docs.aws.amazon.com/config/latest/developerguide/ecs-no-environment-secrets.html
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from orgguard.controls.base import Control, ControlSettings, OffByDefaultSettings, managed_rule
from orgguard.manifest import Mappings, RuleSpec

IDENTIFIER = "ECS_NO_ENVIRONMENT_SECRETS"
PARAMETER = "secretKeys"
# Security Hub ECS.8 sends exactly these ("not customizable"): ecs-controls.html#ecs-8.
SECURITY_HUB_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA")
# orgguard's rule for a name: the parameter is a comma-separated list whose "Extra spaces will be removed", so a
# name with a comma or a space could never be matched; '=' cannot be part of an environment variable's name.
KEY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,254}$")


class EcsNoEnvironmentSecretsSettings(OffByDefaultSettings):
    secret_keys: list[Any] = Field(
        default_factory=lambda: list(SECURITY_HUB_KEYS),
        description="Environment variable names that count as secrets (the rule's secretKeys); default Security "
        "Hub ECS.8's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ECS_ENGINE_AUTH_DATA",
    )

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _check_keys(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError(
                "must be a non-empty list of environment variable names (the managed rule requires secretKeys); "
                "omit it for Security Hub's list"
            )
        problems, seen = [], set()
        for i, key in enumerate(value):
            if not isinstance(key, str):
                problems.append(f"@[{i}]: {key!r} is not a name; write the variable name as text")
            elif not KEY_NAME.match(key):
                problems.append(
                    f"@[{i}]: {key[:40]!r} is not an environment variable name the rule can match; use letters, "
                    "digits, _ . - (not starting with a digit, no commas or spaces, at most 255 characters)"
                )
            elif key in seen:
                problems.append(f"@[{i}]: {key} is listed twice; remove the repeat")
            else:
                seen.add(key)
        if problems:
            raise ValueError("\n".join(problems))
        return value


class EcsNoEnvironmentSecrets(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        assert isinstance(settings, EcsNoEnvironmentSecretsSettings)
        return managed_rule(
            self,
            prefix,
            IDENTIFIER,
            "ECS task definitions must not pass secrets as container environment variables (Security Hub ECS.8).",
            {PARAMETER: ",".join(settings.secret_keys)},
        )


CONTROL = EcsNoEnvironmentSecrets(
    id="ecs-no-environment-secrets",
    order=42,
    title="Secrets are not passed as ECS container environment variables",
    # Security Hub ECS.8 "Secrets should not be passed as container environment variables", Severity: High
    # (https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-8).
    severity="high",
    mappings=Mappings(security_hub=["ECS.8"]),
    resource_types=("AWS::ECS::TaskDefinition",),
    # No runbook: moving a secret needs the secret itself, which no runbook has. "off" is the only truthful mode.
    runbook=None,
    remediation_modes=("off",),
    default_remediation="off",
    settings_model=EcsNoEnvironmentSecretsSettings,
    source_fields=("secret_keys",),
    caveats=(
        'ECS_NO_ENVIRONMENT_SECRETS "only evaluates the latest active revision of an Amazon ECS task definition" '
        "(AWS Config): an older ACTIVE revision still holding the value is not evaluated and stays readable; "
        "deregister old revisions.",
        'It matches variable names only, from secret_keys, and not "environmental variables from other locations '
        'such as Amazon S3" (environmentFiles): a secret under another name, or in an environment file, is not '
        "found.",
        "Approval-only: no runbook runs; a finding is fixed by the task definition's owner (see the advice).",
    ),
    remediation_advice=(
        "Store the value in AWS Secrets Manager or as an SSM Parameter Store SecureString, and register a new "
        "revision of the task definition that passes it in the container's secrets list (name and valueFrom) "
        "instead of environment; let the task execution role read only that secret. Update every service that "
        "runs the family to the new revision, then deregister the old revisions: their environment still holds "
        "the value, readable by anyone allowed ecs:DescribeTaskDefinition. Rotate the exposed secret."
    ),
    # The rule's page: "All supported AWS regions except Asia Pacific (Thailand), Asia Pacific (Malaysia), AWS
    # GovCloud (US-East), AWS GovCloud (US-West), Mexico (Central), Asia Pacific (Taipei), Canada West (Calgary)
    # Region". The region-name -> code mapping is orgguard's, not the page's: Thailand ap-southeast-7, Malaysia
    # ap-southeast-5, GovCloud us-gov-east-1 / us-gov-west-1, Mexico (Central) mx-central-1, Taipei ap-east-2,
    # Calgary ca-west-1.
    unavailable_regions=(
        "ap-east-2",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-west-1",
        "mx-central-1",
        "us-gov-east-1",
        "us-gov-west-1",
    ),
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/ecs-no-environment-secrets.html",
)
