"""orgguard's own stacks, with every resource built by the prebuilt `cdktf-cdktf-provider-aws` (bench only).

Why: docs/performance.md compares our thin constructs (modules/*.py) with the prebuilt provider on the same
work. The previous version of this file mirrored stacks/*.py construct for construct, and silently stopped
being the same work when the stacks changed (a management stack, data sources, modules). Now the product's
stacks run unchanged: only the construct layer is swapped. While modules/*.py is imported, cdktf's
`TerraformResource`, `TerraformDataSource` and `TerraformProvider` are replaced by stand-ins, so each of our
construct classes builds, in the same scope and under the same id, the prebuilt provider's class for the same
Terraform type (found by the provider package's naming: `aws_iam_role` -> `iam_role.IamRole`, nested block
`source_detail` of `ConfigConfigRuleSource` -> `ConfigConfigRuleSourceSourceDetail`), from the values our
construct would have written. References, depends_on, provider aliases and overrides go through the prebuilt
objects. Planning, artifacts and the output's installation are `orgguard synth` itself.

Run it with the bench venv (bench/.venv-prebuilt), the repository on PYTHONPATH, from the repo root:

    PYTHONPATH=. bench/.venv-prebuilt/bin/python bench/prebuilt_stacks.py

Like main.py it reads ORGGUARD_CONFIG (default governance.yaml) and writes CDKTF_OUTDIR (default
cdktf.out). bench/synth_speed.py checks that the output equals ours, resource by resource.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import cdktf

# cdktf-cdktf-provider-aws 21.x is built on cdktf 0.21; the product imports CDK Terrain (`cdktn`, the same API).
# Both sides must share one library, so the product's `cdktn` is cdktf here (bench only).
sys.modules["cdktn"] = cdktf

PACKAGE = "cdktf_cdktf_provider_aws"
_UNBUILT: list[_Stand] = []


def _camel(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def _prebuilt_class(tf_type: str, *, data: bool) -> tuple[Any, type]:
    name = tf_type.removeprefix("aws_") if not data else f"data_{tf_type}"
    module = importlib.import_module(f"{PACKAGE}.{'provider' if tf_type == 'aws' else name}")
    cls_name = "AwsProvider" if tf_type == "aws" else _camel(name)
    return module, getattr(module, cls_name)


def _value(module: Any, prefix: str, key: str, value: Any) -> Any:
    """Our JSON value as the prebuilt kwarg: a block (dict, or list of dicts) becomes its struct class."""
    struct = getattr(module, prefix + _camel(key), None)
    if isinstance(struct, type) and isinstance(value, dict):
        return _struct(module, struct, value)
    if isinstance(struct, type) and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_struct(module, struct, v) for v in value]
    return value


def _struct(module: Any, struct: type, body: dict[str, Any]) -> Any:
    return struct(**{k: _value(module, struct.__name__, k, v) for k, v in body.items()})


def _built(obj: Any) -> Any:
    return obj.build() if isinstance(obj, _Stand) else obj


class _Stand:
    """What our construct classes subclass during the bench: records, then builds the prebuilt twin."""

    _DATA = False

    def __init__(self, scope: Any, id_: str, *, terraform_resource_type: str, provider: Any = None,
                 depends_on: list[Any] | None = None, lifecycle: Any = None, **_: Any) -> None:
        self._scope, self._stand_id, self._tf_type = scope, id_, terraform_resource_type
        self._stand_provider, self._stand_depends_on, self._stand_lifecycle = provider, depends_on, lifecycle
        self._overrides: list[tuple[str, Any]] = []
        self._twin: Any = None
        _UNBUILT.append(self)

    def build(self) -> Any:
        if self._twin is not None:
            return self._twin
        module, cls = _prebuilt_class(self._tf_type, data=self._DATA)
        attrs = self._synthesize_attributes()  # type: ignore[attr-defined]  # our JSON, literals escaped
        accepted = set(inspect.signature(cls.__init__).parameters)
        kwargs = {k: _value(module, cls.__name__, k, v) for k, v in attrs.items() if k in accepted}
        extra = {k: v for k, v in attrs.items() if k not in accepted}  # e.g. 5.x names 6.x dropped
        meta: dict[str, Any] = {}
        if self._stand_provider is not None:
            meta["provider"] = _built(self._stand_provider)
        if self._stand_depends_on:
            meta["depends_on"] = [_built(d) for d in self._stand_depends_on]
        if self._stand_lifecycle is not None:
            meta["lifecycle"] = self._stand_lifecycle
        if type(self).to_terraform is not _Stand.to_terraform:
            # Our class adds blocks in its own to_terraform (e.g. import blocks): the twin runs it, with
            # super() landing on the prebuilt class's own to_terraform (see _Stand.to_terraform).
            cls = type(cls.__name__, (cls,), {"to_terraform": lambda _twin, stand=self: stand.to_terraform()})
        self._twin = cls(self._scope, self._stand_id, **meta, **kwargs)
        for key, value in [*extra.items(), *self._overrides]:
            self._twin.add_override(key, value)
        return self._twin

    def to_terraform(self) -> Any:
        """The prebuilt class's own rendering of the twin (what `super().to_terraform()` means to our class)."""
        twin = self.build()
        return type(twin).__mro__[1].to_terraform(twin)

    def add_override(self, path: str, value: Any) -> None:
        if self._twin is not None:
            self._twin.add_override(path, value)
        else:
            self._overrides.append((path, value))

    def get_string_attribute(self, name: str) -> str:
        return self.build().get_string_attribute(name)

    def get_list_attribute(self, name: str) -> list[str]:
        return self.build().get_list_attribute(name)

    @property
    def friendly_unique_id(self) -> str:
        return self.build().friendly_unique_id


class _StandDataSource(_Stand):
    _DATA = True


class _StandProvider(_Stand):
    def __init__(self, scope: Any, id_: str, *, terraform_resource_type: str, **_: Any) -> None:
        super().__init__(scope, id_, terraform_resource_type=terraform_resource_type)


def _build_all() -> None:
    while _UNBUILT:
        _UNBUILT.pop(0).build()


def install() -> None:
    """Import modules/*.py over the stand-ins (then put cdktf back), and build every twin before cdktf
    resolves a stack: `App.synth` and `TerraformStack.to_terraform` (the account baseline resolves one)."""
    originals = {n: getattr(cdktf, n) for n in ("TerraformResource", "TerraformDataSource", "TerraformProvider")}
    cdktf.TerraformResource, cdktf.TerraformDataSource, cdktf.TerraformProvider = (  # type: ignore[misc]
        _Stand, _StandDataSource, _StandProvider,
    )
    try:
        import orgguard.constructs as modules

        for info in pkgutil.iter_modules(modules.__path__):
            importlib.import_module(f"orgguard.constructs.{info.name}")
    finally:
        for name, cls in originals.items():
            setattr(cdktf, name, cls)
    synth, to_terraform = cdktf.App.synth, cdktf.TerraformStack.to_terraform

    def app_synth(self: Any) -> Any:
        _build_all()
        return synth(self)

    def stack_to_terraform(self: Any) -> Any:
        _build_all()
        return to_terraform(self)

    cdktf.App.synth = app_synth  # type: ignore[method-assign]
    cdktf.TerraformStack.to_terraform = stack_to_terraform  # type: ignore[method-assign]


def main() -> int:
    """`python main.py`, with the construct layer swapped for the prebuilt provider."""
    install()
    from orgguard.cli import main as orgguard_main

    repo = Path(__file__).resolve().parent.parent
    config = os.environ.get("ORGGUARD_CONFIG", str(repo / "governance.yaml"))
    out = os.environ.get("CDKTF_OUTDIR", "cdktf.out")
    return orgguard_main(["synth", "--config", config, "--out", out])


if __name__ == "__main__":
    sys.exit(main())
