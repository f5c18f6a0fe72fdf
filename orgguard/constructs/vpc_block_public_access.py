"""VPC Block Public Access options of one account and region (account mode of the preventive layer)."""

from __future__ import annotations

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource


class VpcBlockPublicAccessOptions(AwsResource):
    """`internet_gateway_block_mode`: off | block-bidirectional | block-ingress (provider 5.100.0 schema).
    Destroying it sets the mode back to off (the provider's Delete calls ModifyVpcBlockPublicAccessOptions
    with off), so removing the layer unblocks the account and region."""

    TYPE = "aws_vpc_block_public_access_options"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        internet_gateway_block_mode: str,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            internet_gateway_block_mode=internet_gateway_block_mode,
        )
