"""SNS topic, topic policy and subscriptions: the notifications layer's central topic."""

from __future__ import annotations

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource


class SnsTopic(AwsResource):
    TYPE = "aws_sns_topic"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        display_name: str | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope, id_, provider=provider, depends_on=depends_on, name=name, display_name=display_name
        )


class SnsTopicPolicy(AwsResource):
    TYPE = "aws_sns_topic_policy"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        arn: str,
        policy: str,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(scope, id_, provider=provider, depends_on=depends_on, arn=arn, policy=policy)


class SnsTopicSubscription(AwsResource):
    TYPE = "aws_sns_topic_subscription"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        topic_arn: str,
        protocol: str,
        endpoint: str,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope, id_, provider=provider, depends_on=depends_on, topic_arn=topic_arn, protocol=protocol,
            endpoint=endpoint,
        )
