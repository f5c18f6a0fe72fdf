"""The JSON floor: `orgguard synth` with cdktf and jsii replaced by plain Python (bench only, not shipped).

Why: docs/performance.md compares our synth not only with the prebuilt provider but with the least any
construct layer could cost: the same planning, the same stacks/*.py and modules/*.py code, the same
artifacts, but no node process and no jsii round trip. This file puts a small pure-Python stand-in for the
part of `cdktf` and `constructs` the product uses into `sys.modules` before anything imports them, then runs
`orgguard synth`. bench/synth_speed.py checks that the Terraform written is the same as ours, block by block
(cdktf's `//` metadata aside), so the floor measures the same work.

    .venv/bin/python bench/json_floor.py      # reads ORGGUARD_CONFIG, writes CDKTF_OUTDIR, like main.py

The stand-in covers what the product calls, no more: App/TerraformStack (node.id, node.children,
add_override, add_dependency, to_terraform, synth), TerraformResource/TerraformDataSource/TerraformProvider
(the `_synthesize_attributes` contract, get_string_attribute, add_override, depends_on, provider),
TerraformLocal (as_list), LocalBackend/S3Backend, Token.is_unresolved. Anything else raises AttributeError.
"""

from __future__ import annotations

import json
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

_LIST_MARK = "\x00list:"  # a list-valued reference, rendered as a whole-value "${...}" like cdktf does
_TOKENS: dict[str, str] = {}  # cdktf's string-token encoding (modules/base.py recognizes it) -> expression
_TOKEN = re.compile(r"\$\{TfToken\[[a-zA-Z0-9:._-]+\]\}")


def _ref(expression: str) -> str:
    token = f"${{TfToken[TOKEN.{len(_TOKENS)}]}}"
    _TOKENS[token] = f"${{{expression}}}"
    return token


def _deep_set(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value


def _merge(target: dict[str, Any], fragment: dict[str, Any]) -> None:
    """cdktf's merge of an element's to_terraform() into the stack: objects deep, lists appended."""
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key].extend(value)
        else:
            target[key] = value


def _lists(value: Any) -> Any:
    """Resolve references as cdktf's resolver does (every token inside every string; a list-valued one as
    the whole value); drop Nones."""
    if isinstance(value, str):
        return _TOKEN.sub(lambda m: _TOKENS[m.group(0)], value) if "${TfToken[" in value else value
    if isinstance(value, list):
        if len(value) == 1 and isinstance(value[0], str) and value[0].startswith(_LIST_MARK):
            return f"${{{value[0][len(_LIST_MARK):]}}}"
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {_lists(k): _lists(v) for k, v in value.items() if v is not None}
    return value


class _Node:
    def __init__(self, owner: Any, id_: str) -> None:
        self.id = id_
        self.children: list[Any] = []
        self._owner = owner


class Construct:
    def __init__(self, scope: Any, id_: str) -> None:
        self.node = _Node(self, id_)
        if scope is not None:
            scope.node.children.append(self)


class App(Construct):
    def __init__(self, *, outdir: str = "cdktf.out", skip_validation: bool = False, **_: Any) -> None:
        super().__init__(None, "")
        self.outdir = Path(outdir)

    def synth(self) -> None:
        stacks = [s for s in self.node.children if isinstance(s, TerraformStack)]
        manifest: dict[str, Any] = {"stacks": {}, "version": "json-floor"}
        for stack in stacks:
            target = self.outdir / "stacks" / stack.node.id
            target.mkdir(parents=True, exist_ok=True)
            (target / "cdk.tf.json").write_text(json.dumps(stack.to_terraform(), indent=2, sort_keys=True))
            manifest["stacks"][stack.node.id] = {
                "name": stack.node.id,
                "synthesizedStackPath": f"stacks/{stack.node.id}/cdk.tf.json",
                "dependencies": [d.node.id for d in stack._dependencies],
            }
        (self.outdir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))


class TerraformStack(Construct):
    def __init__(self, scope: Any, id_: str) -> None:
        super().__init__(scope, id_)
        self._overrides: list[tuple[str, Any]] = []
        self._dependencies: list[TerraformStack] = []

    def add_override(self, path: str, value: Any) -> None:
        self._overrides.append((path, value))

    def add_dependency(self, other: TerraformStack) -> None:
        self._dependencies.append(other)

    def to_terraform(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"//": {"metadata": {"stackName": self.node.id, "version": "json-floor"}}}
        providers: dict[str, dict[str, Any]] = {}
        for child in self.node.children:
            if isinstance(child, TerraformBackend):
                doc.setdefault("terraform", {})["backend"] = {child._kind: _lists(child._body())}
            elif isinstance(child, TerraformProvider):
                doc.setdefault("provider", {}).setdefault(child._tf_type, []).append(_lists(child._render()))
                providers[child._tf_type] = child._required
            elif isinstance(child, TerraformLocal):
                doc.setdefault("locals", {})[child.node.id] = _lists(child._expression)
            elif isinstance(child, _Element):
                _merge(doc, _lists(child.to_terraform()))  # our classes may add blocks (import) to theirs
        if providers:
            doc.setdefault("terraform", {})["required_providers"] = providers
        for path, value in self._overrides:
            _deep_set(doc, path, _lists(value))
        return doc


class TerraformBackend(Construct):
    _kind = ""

    def __init__(self, scope: Any, **props: Any) -> None:
        super().__init__(scope, "backend")
        self._props = props
        self._overrides: list[tuple[str, Any]] = []

    def add_override(self, path: str, value: Any) -> None:
        self._overrides.append((path, value))

    def _body(self) -> dict[str, Any]:
        body = {k: (vars(v) if hasattr(v, "__dict__") else v) for k, v in self._props.items() if v is not None}
        for path, value in self._overrides:
            _deep_set(body, path, value)
        return body


class LocalBackend(TerraformBackend):
    _kind = "local"


class S3Backend(TerraformBackend):
    _kind = "s3"


class S3BackendAssumeRoleConfig:
    def __init__(self, **props: Any) -> None:
        self.__dict__.update({k: v for k, v in props.items() if v is not None})


class TerraformLocal(Construct):
    def __init__(self, scope: Any, id_: str, expression: Any) -> None:
        super().__init__(scope, id_)
        self._expression = expression

    @property
    def as_list(self) -> list[str]:
        return [f"{_LIST_MARK}local.{self.node.id}"]

    @property
    def as_string(self) -> str:
        return _ref(f"local.{self.node.id}")


class _Element(Construct):
    _PREFIX = ""

    def __init__(self, scope: Any, id_: str, *, terraform_resource_type: str, provider: Any = None,
                 depends_on: list[Any] | None = None, lifecycle: Any = None, **_: Any) -> None:
        super().__init__(scope, id_)
        self._tf_type = terraform_resource_type
        self._meta_provider, self._meta_depends_on = provider, depends_on
        self._overrides: list[tuple[str, Any]] = []
        if lifecycle is not None:
            raise NotImplementedError("json floor: lifecycle objects are not used by the product")

    @property
    def _address(self) -> str:
        return f"{self._PREFIX}{self._tf_type}.{self.node.id}"

    def add_override(self, path: str, value: Any) -> None:
        self._overrides.append((path, value))

    def get_string_attribute(self, name: str) -> str:
        return _ref(f"{self._address}.{name}")

    def get_list_attribute(self, name: str) -> list[str]:
        return [f"{_LIST_MARK}{self._address}.{name}"]

    @property
    def friendly_unique_id(self) -> str:
        return self.node.id

    def to_terraform(self) -> dict[str, Any]:
        section = "data" if isinstance(self, TerraformDataSource) else "resource"
        return {section: {self._tf_type: {self.node.id: self._render()}}}

    def _render(self) -> dict[str, Any]:
        body = dict(self._synthesize_attributes())  # type: ignore[attr-defined]
        if self._meta_depends_on:
            body["depends_on"] = [d._address for d in self._meta_depends_on]
        if self._meta_provider is not None:
            alias = self._meta_provider._render().get("alias")
            body["provider"] = f"{self._meta_provider._tf_type}.{alias}" if alias else self._meta_provider._tf_type
        for path, value in self._overrides:
            _deep_set(body, path, value)
        return body


class TerraformResource(_Element):
    pass


class TerraformDataSource(_Element):
    _PREFIX = "data."


class TerraformProviderGeneratorMetadata:
    def __init__(self, *, provider_name: str, provider_version_constraint: str | None = None, **_: Any) -> None:
        self.provider_version_constraint = provider_version_constraint


class TerraformProvider(Construct):
    def __init__(self, scope: Any, id_: str, *, terraform_resource_type: str, terraform_provider_source: str,
                 terraform_generator_metadata: Any = None) -> None:
        super().__init__(scope, id_)
        self._tf_type = terraform_resource_type
        self._required = {"source": terraform_provider_source}
        version = getattr(terraform_generator_metadata, "provider_version_constraint", None)
        if version:
            self._required["version"] = version

    def _render(self) -> dict[str, Any]:
        return dict(self._synthesize_attributes())  # type: ignore[attr-defined]


class TerraformResourceLifecycle:  # type hints only
    pass


class Token:
    @staticmethod
    def is_unresolved(text: Any) -> bool:
        return isinstance(text, str) and _TOKEN.search(text) is not None


def install() -> None:
    """Put the stand-ins where `import cdktn` (and `import cdktf`) and `import constructs` will find them."""
    fake_cdktf = types.ModuleType("cdktn")
    for name in ("App", "TerraformStack", "TerraformBackend", "LocalBackend", "S3Backend",
                 "S3BackendAssumeRoleConfig", "TerraformLocal", "TerraformResource", "TerraformDataSource",
                 "TerraformProvider", "TerraformProviderGeneratorMetadata", "TerraformResourceLifecycle", "Token"):
        setattr(fake_cdktf, name, globals()[name])
    fake_constructs = types.ModuleType("constructs")
    fake_constructs.Construct = Construct  # type: ignore[attr-defined]
    sys.modules["cdktn"] = sys.modules["cdktf"] = fake_cdktf
    sys.modules["constructs"] = fake_constructs


def main() -> int:
    install()
    from orgguard.cli import main as orgguard_main

    repo = Path(__file__).resolve().parent.parent
    config = os.environ.get("ORGGUARD_CONFIG", str(repo / "governance.yaml"))
    out = os.environ.get("CDKTF_OUTDIR", "cdktf.out")
    code = orgguard_main(["synth", "--config", config, "--out", out])
    assert "jsii" not in sys.modules, "the floor must not load jsii"
    return code


if __name__ == "__main__":
    sys.exit(main())
