"""SSM Automation documents."""

from __future__ import annotations

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource


class SsmDocument(AwsResource):
    TYPE = "aws_ssm_document"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        content: str,
        document_type: str = "Automation",
        document_format: str = "JSON",
        tags: dict[str, str] | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            name=name,
            content=content,
            document_type=document_type,
            document_format=document_format,
            tags=tags,
        )
