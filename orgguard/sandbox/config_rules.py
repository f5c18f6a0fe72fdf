"""AWS Config rules and recorders where moto 5.2.5 differs from AWS.

- ``Owner: CUSTOM_POLICY`` (Guard) rules with ``CustomPolicyDetails``: moto knows only AWS and
  CUSTOM_LAMBDA, but ECS.2/ECS.16 are Guard rules.
- A started recorder reports ``lastStatus: SUCCESS`` (moto leaves it PENDING forever).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.config import models as config_models
from moto.config.exceptions import InvalidParameterValueException
from moto.core.utils import utcnow

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

GUARD_RUNTIMES = ("guard-2.x.x",)


def _patched_source_init(original: Callable[..., None]) -> Callable[..., None]:
    def init(self: Any, account_id: str, region: str, owner: str, source_identifier: str | None = None,
             source_details: Any = None, custom_policy_details: dict[str, Any] | None = None) -> None:  # fmt: skip
        if owner != "CUSTOM_POLICY":
            original(self, account_id, region, owner, source_identifier, source_details)
            return
        config_models.ConfigEmptyDictable.__init__(self, capitalize_start=True, capitalize_arn=False)
        details = custom_policy_details or {}
        if details.get("PolicyRuntime") not in GUARD_RUNTIMES or not details.get("PolicyText"):
            raise InvalidParameterValueException(
                "CUSTOM_POLICY rules need CustomPolicyDetails with PolicyRuntime guard-2.x.x and PolicyText."
            )
        if not source_details:
            raise InvalidParameterValueException("SourceDetails should be provided if the owner is CUSTOM_POLICY")
        self.owner = owner
        self.source_identifier = None
        self.source_details = [
            config_models.SourceDetail(**config_models.convert_to_class_args(d)) for d in source_details
        ]
        self.custom_policy_details = {"EnableDebugLogDelivery": False, **details}

    return init


def _recorder_start(self: Any) -> None:
    self.recording = True
    self.last_status = "SUCCESS"
    self.last_start_time = config_models.datetime2int(utcnow())
    self.last_status_change_time = self.last_start_time


def install(ctx: ServerContext) -> None:
    source = config_models.Source
    if "CUSTOM_POLICY" not in source.OWNERS:
        source.OWNERS = {*source.OWNERS, "CUSTOM_POLICY"}
        source.__init__ = _patched_source_init(source.__init__)  # type: ignore[method-assign]
    config_models.ConfigRecorderStatus.start = _recorder_start  # type: ignore[method-assign]
