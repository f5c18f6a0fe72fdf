"""Account mode (account vending): one thin stack per account calling the shared baseline modules.

The stack holds the account's backend, one provider per region assuming the execution role into that
account, one `module` block for the roles and one per region (stacks/account_module.py writes the modules
once into OUT/modules/), and the `moved` blocks that carry state applied with the earlier
one-stack-per-account layout under the modules without destroying anything.
"""

from __future__ import annotations

import json
from typing import Any

from cdktn import TerraformStack
from constructs import Construct

from orgguard.constructs.provider import AssumeRole, AwsProvider
from orgguard.stacks.account_module import AccountBaseline, provider_alias
from orgguard.stacks.backend import place_backend
from orgguard.stacks.organization import default_tags
from orgguard.synth.plan import Plan


class AccountStack(TerraformStack):
    def __init__(
        self, scope: Construct, id_: str, *, plan: Plan, account_id: str, baseline: AccountBaseline | None = None
    ) -> None:
        super().__init__(scope, id_)
        place_backend(self, plan)  # the plan's state backend for this stack (docs/operators.md, "State")
        m = plan.manifest
        gov = plan.governance
        org = m.organization
        baseline = baseline or AccountBaseline.from_plan(plan)
        for region in org.regions:
            AwsProvider(
                self,
                f"aws-{region}",
                region=region,
                alias=provider_alias(region),
                allowed_account_ids=[account_id],
                assume_role=AssumeRole(
                    role_arn=f"arn:aws:iam::{account_id}:role/{gov.account_execution_role}",
                    session_name="orgguard",
                ),
                default_tags=default_tags(plan),
            )
        # Plain blocks, not constructs: one jsii call each instead of one per resource (docs/performance.md).
        self._modules = baseline.module_calls(account_id, org.home_region, list(org.regions))
        self._moved = baseline.moved(list(org.regions))
        self.add_override("module", self._modules)
        self.add_override("moved", self._moved)

    def to_hcl_terraform(self) -> Any:
        """cdktf's HCL leaves stack-level overrides out, so the module and moved blocks are appended here."""
        out = super().to_hcl_terraform()
        out["hcl"] = out["hcl"].rstrip("\n") + "\n\n" + hcl_blocks(self._modules, self._moved)
        return out


def _hcl_value(key: str, value: Any) -> str:
    if key == "providers":
        return "{ " + ", ".join(f"{k} = {v}" for k, v in value.items()) + " }"
    if isinstance(value, str) and value.startswith("${") and value.endswith("}") and value.count("${") == 1:
        return value[2:-1]  # a whole-value reference: write the expression itself
    return json.dumps(value)  # plain strings here hold no `${`, `%{` or escapes HCL reads differently


def hcl_blocks(modules: dict[str, dict[str, Any]], moved: list[dict[str, str]]) -> str:
    """The module calls and moved blocks as HCL (addresses and references unquoted)."""
    lines: list[str] = []
    for name, args in modules.items():
        lines.append(f'module "{name}" {{')
        lines.extend(f"  {k} = {_hcl_value(k, v)}" for k, v in args.items())
        lines += ["}", ""]
    for block in moved:
        lines += ["moved {", f"  from = {block['from']}", f"  to   = {block['to']}", "}", ""]
    return "\n".join(lines)
