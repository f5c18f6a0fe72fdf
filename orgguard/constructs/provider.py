"""The hashicorp/aws provider block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktn import TerraformProvider, TerraformProviderGeneratorMetadata
from constructs import Construct

from orgguard.constructs.base import _hcl, to_terraform

AWS_PROVIDER_SOURCE = "hashicorp/aws"
# Emitted as required_providers.aws.version in every stack. ~> 5.100 admits 5.100.x, the provider the suite
# validates against (the last 5.x release). The fix for organization packs created from a delegated
# administrator (hashicorp/terraform-provider-aws#47072) is only in 6.x: see docs/operators.md, "Provider".
AWS_PROVIDER_VERSION = "~> 5.100"


@dataclass(frozen=True)
class AssumeRole:
    role_arn: str
    session_name: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class DefaultTags:
    tags: dict[str, str]


class AwsProvider(TerraformProvider):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        region: str,
        alias: str | None = None,
        allowed_account_ids: list[str] | None = None,
        assume_role: AssumeRole | None = None,
        default_tags: DefaultTags | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type="aws",
            terraform_provider_source=AWS_PROVIDER_SOURCE,
            terraform_generator_metadata=TerraformProviderGeneratorMetadata(
                provider_name="aws", provider_version_constraint=AWS_PROVIDER_VERSION
            ),
        )
        self._alias_name = alias
        self._attributes: dict[str, Any] = {
            k: v
            for k, v in {
                "region": region,
                "allowed_account_ids": allowed_account_ids,
                "assume_role": [assume_role] if assume_role else None,
                "default_tags": [default_tags] if default_tags else None,
            }.items()
            if v is not None
        }

    @property
    def alias_name(self) -> str | None:
        """The alias, kept on the Python side: a Python `alias` property would be read back through a
        jsii callback for every resource that names the provider (two thirds of account-mode synth)."""
        return self._alias_name

    def _synthesize_attributes(self) -> dict[str, Any]:
        attrs = {k: to_terraform(v) for k, v in self._attributes.items()}
        if self._alias_name:
            attrs["alias"] = self._alias_name
        return attrs

    def _synthesize_hcl_attributes(self) -> dict[str, Any]:
        attrs = {k: _hcl(v) for k, v in self._attributes.items()}
        if self._alias_name:
            attrs["alias"] = _hcl(self._alias_name)
        return attrs
