"""Account mode's fast path: EventBridge rules that start the revoke runbook on the opening API call."""

from __future__ import annotations

import json

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.events import CloudwatchEventRule, CloudwatchEventTarget, InputTransformer, RetryPolicy
from orgguard.synth.plan import Plan, role_arn


def place_fast_path(
    scope: Construct,
    plan: Plan,
    *,
    account_id: str,
    region: str,
    provider: TerraformProvider,
    depends_on: list[TerraformResource],
) -> None:
    m = plan.manifest
    assert m.fast_path is not None
    for i, route in enumerate(m.fast_path.routes, start=1):
        name = m.fast_path.route_rule_name(i)
        rule = CloudwatchEventRule(
            scope,
            f"fast-path-rule-{i}-{region}",
            name=name,
            description=f"Starts {m.fast_path.document} as soon as CloudTrail records {route.event_name}",
            event_pattern=json.dumps(route.event_pattern, sort_keys=True),
            provider=provider,
        )
        CloudwatchEventTarget(
            scope,
            f"fast-path-target-{i}-{region}",
            rule=rule.name_ref,
            target_id="revoke-runbook",
            arn=f"arn:aws:ssm:{region}:{account_id}:automation-definition/{m.fast_path.document}:$DEFAULT",
            role_arn=role_arn(m.fast_path.role, account_id),
            input_transformer=InputTransformer(input_paths=route.input_paths, input_template=route.input_template),
            retry_policy=RetryPolicy(maximum_event_age_in_seconds=3600, maximum_retry_attempts=20),
            provider=provider,
            depends_on=depends_on,
        )
