"""The account baseline as two Terraform modules, written once per synth and called by every account stack.

- `orgguard-account-global`: the IAM roles (IAM is global: once per account, from the home region);
- `orgguard-account-regional`: the runbook documents, Config rules, remediation bindings and fast path of
  one region (called once per region).

Why modules: 500 accounts x 3 regions used to repeat the same 64 resources per account (92 MB of Terraform
that nobody reviews and that an AFT customization cannot reuse). Now the baseline is reviewed once and
every account stack is a backend, its providers and a few `module` blocks.

How: the resources are placed by the very code that placed them in each account stack before
(stacks/common.py, stacks/fast_path.py), once, into a scratch stack for a stand-in account and region;
cdktf resolves that stack (about 30 resources) and the result is parametrized in plain Python: the stand-ins
become the variables `account_id` and `region`, the region suffix that kept regions apart inside one stack
is dropped (each region is its own module instance now), and a regional resource's dependency on a role
becomes a dependency on the `role_arns` input, which the global module's output feeds. Because the module
content *is* the old per-account content, the `moved` blocks that carry an account applied with the old
layout under the modules are exact (see `AccountBaseline.moved`).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktn import App, TerraformResource, TerraformStack

from orgguard.config.load import ConfigError
from orgguard.constructs.provider import AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSION
from orgguard.constructs.ssm import SsmDocument
from orgguard.layers.notifications.stacks import place_member_rules
from orgguard.layers.vpc_block_public_access.stacks import place_account_options
from orgguard.stacks.common import place_role, place_rule
from orgguard.stacks.fast_path import place_fast_path
from orgguard.synth.plan import Plan

GLOBAL_MODULE = "orgguard-account-global"
REGIONAL_MODULE = "orgguard-account-regional"
MODULES_DIR = "modules"
MODULE_FILE = "main.tf.json"
GLOBAL_INSTANCE = "orgguard_global"
# moved blocks, preconditions and validation blocks are all older than this; tested with terraform 1.11.
REQUIRED_TERRAFORM = ">= 1.5.0"

# Stand-ins that never occur in a plan (checked): they mark where the account and region go.
ACCOUNT_STAND_IN = "orgguard-stand-in-account"
REGION_STAND_IN = "orgguard-stand-in-region"
_ACCOUNT_VAR = "${var.account_id}"
_REGION_VAR = "${var.region}"
_ROLES_VAR = "var.role_arns"
# A resource address (type.name) with the stand-in region suffix, wherever it occurs: keys, depends_on, references.
_SUFFIXED = re.compile(r"\b(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+?)-" + re.escape(REGION_STAND_IN) + r"\b")
_ADDRESS = re.compile(r"\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")
_EXPRESSION = re.compile(r"(?<!\$)\$\{([^}]*)\}")  # ${...} but not the escaped literal $${...}

_ACCOUNT_CHECK = 'alltrue([for arn in values(var.role_arns) : try(split(":", arn)[4], "") == var.account_id])'
_ACCOUNT_ERROR = (
    "orgguard: role_arns name roles of another account than account_id; pass account_id of the account this "
    "module's provider deploys into, and role_arns = module.<global module>.role_arns of that same account."
)
_REGION_CHECK = "data.aws_region.current.name == var.region"
_REGION_ERROR = (
    "orgguard: region is not the region of the provider passed to this module; call the module once per region "
    "with providers = { aws = aws.<that region's alias> } and region set to that region."
)
_ROLE_ACCOUNT_CHECK = 'try(split(":", self.arn)[4], "") == var.account_id'
_ROLE_ACCOUNT_ERROR = (
    "orgguard: account_id is not the account the provider passed to this module deploys into; set account_id to "
    "that account's id (in AFT: data.aws_caller_identity.current.account_id)."
)


def instance_name(region: str) -> str:
    """The module instance of one region in an account stack (module.orgguard_us_east_1)."""
    return f"orgguard_{region.replace('-', '_')}"


def provider_alias(region: str) -> str:
    return region.replace("-", "_")


def _place_baseline(stack: TerraformStack, plan: Plan) -> None:
    """What one account stack held, for one (stand-in) region: roles once, then the region's pieces.

    The loop of the former stacks/account.py, unchanged but for the providers (a module gets its provider
    from the caller) and the single region."""
    m = plan.manifest
    account, region = ACCOUNT_STAND_IN, REGION_STAND_IN
    roles = {r.name: place_role(stack, r, account_id=account, provider=None) for r in m.roles}  # type: ignore[arg-type]
    documents = {
        d.entry.name: SsmDocument(
            stack,
            f"document-{d.entry.name}-{region}",
            name=d.entry.name,
            content=d.content,
            document_type="Automation",
            document_format="JSON",
        )
        for d in plan.documents
    }
    for control in m.enabled_controls():
        needs: list[TerraformResource] = []
        if control.remediation.mode != "off" and control.remediation.document:
            needs = [documents[control.remediation.document], roles[control.remediation.role or ""]]
        place_rule(stack, control, account_id=account, region=region, provider=None, depends_on=needs)  # type: ignore[arg-type]
    if m.fast_path:
        place_fast_path(
            stack,
            plan,
            account_id=account,
            region=region,
            provider=None,  # type: ignore[arg-type]
            depends_on=[*documents.values(), *roles.values()],
        )
    if m.vpc_block_public_access is not None and not m.vpc_block_public_access.organization_mode:
        place_account_options(stack, m.vpc_block_public_access, region)  # the preventive layer, this region
    if m.notifications:
        place_member_rules(
            stack, plan, account_id=account, region=region, provider=None, depends_on=list(roles.values())  # type: ignore[arg-type]
        )


def _resolved_resources(plan: Plan) -> dict[str, dict[str, Any]]:
    """The scratch stack resolved by cdktf: {type: {name: body}}, cdktf's `//` metadata dropped."""
    with tempfile.TemporaryDirectory(prefix="orgguard-baseline-") as scratch:
        app = App(outdir=scratch, skip_validation=True)  # never synthesized: only resolved
        stack = TerraformStack(app, "orgguard-account-baseline")
        _place_baseline(stack, plan)
        resolved = stack.to_terraform()
    return {
        rtype: {name: {k: v for k, v in body.items() if k != "//"} for name, body in by_name.items()}
        for rtype, by_name in (resolved.get("resource") or {}).items()
    }


def _replace(value: Any, fn) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_replace(v, fn) for v in value]
    if isinstance(value, dict):
        return {fn(k): _replace(v, fn) for k, v in value.items()}
    return value


def _parametrize(text: str) -> str:
    text = _SUFFIXED.sub(r"\1", text)
    return text.replace(ACCOUNT_STAND_IN, _ACCOUNT_VAR).replace(REGION_STAND_IN, _REGION_VAR)


def _references(body: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def scan(text: str) -> str:
        for expression in _EXPRESSION.findall(text):
            found.update(_ADDRESS.findall(expression))
        return text

    _replace(body, scan)
    return found


def _with_preconditions(body: dict[str, Any], checks: list[tuple[str, str]]) -> dict[str, Any]:
    lifecycle = dict(body.get("lifecycle") or {})
    key = "postcondition" if any("self." in c for c, _ in checks) else "precondition"
    lifecycle[key] = [*lifecycle.get(key, []), *({"condition": f"${{{c}}}", "error_message": e} for c, e in checks)]
    return {**body, "lifecycle": lifecycle}


def _account_variable() -> dict[str, Any]:
    return {
        "type": "string",
        "description": "The 12-digit id of the account the module's provider deploys into.",
        "validation": [
            {
                "condition": '${can(regex("^[0-9]{12}$", var.account_id))}',
                "error_message": "orgguard: account_id must be a 12-digit AWS account id, as a string.",
            }
        ],
    }


def _terraform_block() -> dict[str, Any]:
    return {
        "required_version": REQUIRED_TERRAFORM,
        "required_providers": {"aws": {"source": AWS_PROVIDER_SOURCE, "version": AWS_PROVIDER_VERSION}},
    }


@dataclass(frozen=True)
class AccountBaseline:
    """Both modules' Terraform JSON, and what an account stack needs to call them."""

    global_module: dict[str, Any]
    regional_module: dict[str, Any]
    global_addresses: tuple[tuple[str, str], ...]  # (type, name) inside the global module
    regional_addresses: tuple[tuple[str, str], ...]

    @classmethod
    def from_plan(cls, plan: Plan) -> AccountBaseline:
        """Place, resolve and split the baseline; the plan must not contain the stand-ins."""
        text = plan.manifest.to_json() + "".join(d.content for d in plan.documents)
        for stand_in in (ACCOUNT_STAND_IN, REGION_STAND_IN):
            if stand_in in text:
                where = "name_prefix" if stand_in in plan.prefix else "a value of the file"
                raise ConfigError(
                    plan.governance_source,
                    [f"{where}: contains {stand_in!r}, reserved by orgguard's account modules; choose another"],
                )
        raw = _resolved_resources(plan)
        suffix = f"-{REGION_STAND_IN}"
        regional_raw = {
            (t, n[: -len(suffix)]): b for t, by in raw.items() for n, b in by.items() if n.endswith(suffix)
        }
        global_raw = {(t, n): b for t, by in raw.items() for n, b in by.items() if not n.endswith(suffix)}
        global_res = {a: _replace(b, _parametrize) for a, b in global_raw.items()}
        regional_res = {a: _replace(b, _parametrize) for a, b in regional_raw.items()}
        return cls(
            global_module=_global_module(plan, global_res),
            regional_module=_regional_module(plan, regional_res, set(global_res)),
            global_addresses=tuple(sorted(global_res)),
            regional_addresses=tuple(sorted(regional_res)),
        )

    def write(self, outdir: Path) -> list[Path]:
        """OUT/modules/<module>/main.tf.json for both modules."""
        written = []
        for name, doc in ((GLOBAL_MODULE, self.global_module), (REGIONAL_MODULE, self.regional_module)):
            path = Path(outdir) / MODULES_DIR / name / MODULE_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
            written.append(path)
        return written

    def module_calls(self, account_id: str, home_region: str, regions: list[str]) -> dict[str, dict[str, Any]]:
        """The `module` blocks of one account stack (sources relative to OUT/stacks/<stack>/)."""
        calls: dict[str, dict[str, Any]] = {
            GLOBAL_INSTANCE: {
                "source": f"../../{MODULES_DIR}/{GLOBAL_MODULE}",
                "providers": {"aws": f"aws.{provider_alias(home_region)}"},
                "account_id": account_id,
            }
        }
        for region in regions:
            calls[instance_name(region)] = {
                "source": f"../../{MODULES_DIR}/{REGIONAL_MODULE}",
                "providers": {"aws": f"aws.{provider_alias(region)}"},
                "account_id": account_id,
                "region": region,
                "role_arns": f"${{module.{GLOBAL_INSTANCE}.role_arns}}",
            }
        return calls

    def moved(self, regions: list[str]) -> list[dict[str, str]]:
        """`moved` blocks from the one-stack-per-account layout (before the modules) to the module instances.

        That layout named a role `aws_iam_role.<name>` and a regional resource `<type>.<name>-<region>`;
        a block whose `from` is absent from the state does nothing, so new accounts are unaffected."""
        blocks = [
            {"from": f"{t}.{n}", "to": f"module.{GLOBAL_INSTANCE}.{t}.{n}"} for t, n in self.global_addresses
        ]
        for region in regions:
            blocks.extend(
                {"from": f"{t}.{n}-{region}", "to": f"module.{instance_name(region)}.{t}.{n}"}
                for t, n in self.regional_addresses
            )
        return blocks


def _global_module(plan: Plan, resources: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, dict[str, Any]] = {}
    for (rtype, name), res in sorted(resources.items()):
        if rtype == "aws_iam_role":
            res = _with_preconditions(res, [(_ROLE_ACCOUNT_CHECK, _ROLE_ACCOUNT_ERROR)])
        body.setdefault(rtype, {})[name] = res
    roles = {r.name: f"role-{r.name}" for r in plan.manifest.roles}
    missing = [n for n in roles.values() if n not in body.get("aws_iam_role", {})]
    if missing:
        raise RuntimeError(f"account baseline: roles {missing} were not placed as aws_iam_role.<role-name>")
    module = {
        "//": "orgguard account baseline, global part: the runbook roles. Generated by `orgguard synth`; do not edit.",
        "terraform": _terraform_block(),
        "variable": {"account_id": _account_variable()},
        "resource": body,
        "output": {
            "role_arns": {
                "description": "Role name -> ARN. Pass to every regional module of the same account.",
                "value": {role: f"${{aws_iam_role.{name}.arn}}" for role, name in roles.items()},
                # Ready means attached policies too: an automatic remediation may run as soon as it is bound.
                "depends_on": [f"{t}.{n}" for t, n in sorted(resources)],
            },
        },
    }
    if not body:  # no runbook roles (only the preventive layer): Terraform JSON refuses an empty "resource": {}
        del module["resource"]
    return module


def _regional_module(
    plan: Plan, resources: dict[tuple[str, str], dict[str, Any]], global_addresses: set[tuple[str, str]]
) -> dict[str, Any]:
    local = set(resources)
    body: dict[str, dict[str, Any]] = {}
    for (rtype, name), res in sorted(resources.items()):
        depends = res.get("depends_on") or []
        on_roles = [d for d in depends if tuple(d.split(".", 1)) in global_addresses]
        if on_roles:  # a role is in the global module now: depend on its output, which waits for the roles
            res = {**res, "depends_on": [d for d in depends if d not in on_roles] + [_ROLES_VAR]}
        refs = _references({k: v for k, v in res.items() if k != "depends_on"})
        foreign = sorted(f"{t}.{n}" for t, n in refs - local)
        if foreign:
            raise RuntimeError(f"account baseline: regional {rtype}.{name} refers to {foreign} outside its module")
        text = json.dumps(res)
        checks = []
        if _ACCOUNT_VAR in text:
            checks.append((_ACCOUNT_CHECK, _ACCOUNT_ERROR))
        if _REGION_VAR in text:
            checks.append((_REGION_CHECK, _REGION_ERROR))
        if checks:
            res = _with_preconditions(res, checks)
        body.setdefault(rtype, {})[name] = res
    roles = sorted(r.name for r in plan.manifest.roles)
    outputs: dict[str, Any] = {
        "config_rule_names": {
            "description": "Control id -> Config rule name in this region.",
            "value": {
                n.removeprefix("rule-"): f"${{aws_config_config_rule.{n}.name}}"
                for n in body.get("aws_config_config_rule", {})
            },
        },
        "document_names": {
            "description": "The runbook documents (SSM Automation) in this region.",
            "value": [f"${{aws_ssm_document.{n}.name}}" for n in body.get("aws_ssm_document", {})],
        },
        "fast_path_rule_names": {
            "description": "The EventBridge rules that start the revoke runbook on the opening API call.",
            "value": [f"${{aws_cloudwatch_event_rule.{n}.name}}" for n in body.get("aws_cloudwatch_event_rule", {})],
        },
    }
    module: dict[str, Any] = {
        "//": "orgguard account baseline, one region: runbook documents, Config rules, remediation bindings, "
        "fast path. Generated by `orgguard synth`; do not edit.",
        "terraform": _terraform_block(),
        "variable": {
            "account_id": _account_variable(),
            "region": {
                "type": "string",
                "description": "The region of the provider passed to this module, e.g. us-east-1.",
                "validation": [
                    {
                        "condition": '${can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))}',
                        "error_message": "orgguard: region must be an AWS region code such as us-east-1.",
                    }
                ],
            },
            "role_arns": {
                "type": "map(string)",
                "description": "Role name -> ARN, from the global module of the same account (its role_arns output).",
                "validation": [
                    {
                        "condition": "${length(setsubtract(" + json.dumps(roles) + ", keys(var.role_arns))) == 0}",
                        "error_message": f"orgguard: role_arns must name every runbook role: {', '.join(roles)}; "
                        "pass module.<global module>.role_arns.",
                    }
                ],
            },
        },
        "resource": body,
        "output": outputs,
    }
    if _REGION_CHECK.split(".name")[0] in json.dumps(body):
        module["data"] = {"aws_region": {"current": {}}}  # read from the provider's configuration, no API call
    return module
