"""Apply synthesized stacks to the sandbox with real terraform.

Each stack is copied to a working directory beside a generated ``sandbox_override.tf.json`` that
points every aws provider (and alias) at the sandbox and retries little, so the synthesized JSON
never knows about the sandbox and an unsupported call fails fast instead of retrying for minutes.
Terraform runs with the deployer account's credentials (the delegated admin when there is one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import boto3

from orgguard.errors import SandboxError
from orgguard.manifest import MANIFEST_FILE


class _Org(Protocol):
    management_account_id: str


class Sandbox(Protocol):
    """What applying needs from a running sandbox (orgguard.sandbox.Sandbox is one); a protocol, so this
    module does not import the class that imports it."""

    workdir: Path
    endpoint_url: str

    @property
    def org(self) -> _Org: ...

    def env(self) -> dict[str, str]: ...

    def session(self, account_id: str | None = None, region: str | None = None) -> boto3.Session: ...


ENDPOINT_SERVICES = (
    "cloudformation",
    "configservice",
    "controltower",
    "ec2",
    "ecs",
    "events",
    "iam",
    "organizations",
    "s3",
    "ssm",
    "sts",
)
KIND_ORDER = {"org-global": 0, "org-management": 1, "account": 1, "org-region": 2}
TIMEOUT_S = 900
MAX_RETRIES = 5
# Failures of the transport, not of AWS semantics: a re-run of `terraform apply` picks up where it stopped
# (the state holds what was created), so the sandbox runner tries again instead of failing the loop.
TRANSPORT_ERRORS = (
    "use of closed network connection",
    "connection reset by peer",
    "broken pipe",
    "connection refused",
    "request send failed",
)
APPLY_ATTEMPTS = 3
MAX_PARALLEL = 4
# The plan manifest, and the name synth gave it before it was renamed (an older output still applies).
PLAN_MANIFEST_NAMES = (MANIFEST_FILE, "manifest.json")


def _plan_manifest(synth_out: Path) -> dict[str, Any]:
    """The plan's stack list and account ids, read as plain JSON on purpose.

    The sandbox applies whatever a synth wrote, including outputs of earlier versions and stacks a test
    edited by hand (tests/sandbox/test_previous_plan_shape.py), so it does not hold the plan to the current
    schema or its file hashes as `orgguard.manifest.load_manifest` does for review and verify. It reads only
    `stacks[].name/kind/account_id/depends_on` and `organization.deployer_account_id/management_account_id`;
    cdktf's own manifest.json (whose `stacks` is a mapping) is skipped.
    """
    for name in PLAN_MANIFEST_NAMES:
        path = synth_out / name
        if path.exists():
            data = json.loads(path.read_text())
            if isinstance(data.get("stacks"), list):
                return data
    raise SandboxError(f"no plan manifest in {synth_out}; run `orgguard synth --out {synth_out}` first")


def override(stack_json: dict[str, Any], endpoint_url: str) -> dict[str, Any]:
    """Provider settings merged over each aws provider block of the stack (matched by alias)."""
    providers = (stack_json.get("provider") or {}).get("aws") or [{}]
    if isinstance(providers, dict):
        providers = [providers]
    blocks = []
    for provider in providers:
        block: dict[str, Any] = {
            "endpoints": [{service: endpoint_url for service in ENDPOINT_SERVICES}],
            # Connection-level failures are retried (the SDK classes them retryable); the sandbox answers
            # operations it lacks with a 501 that no client retries, so these retries cannot hang an apply.
            "max_retries": MAX_RETRIES,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": "true",
            "skip_region_validation": True,
            "s3_use_path_style": True,
        }
        if provider.get("alias"):
            block["alias"] = provider["alias"]
        blocks.append(block)
    result: dict[str, Any] = {"provider": {"aws": blocks}}
    if "backend" in (stack_json.get("terraform") or {}):
        # A backend in an override file replaces the stack's (terraform docs, "Override Files": "If the override
        # block contains a cloud or backend block, it replaces..."), so a `state: s3` plan keeps its state in
        # the sandbox's working copy and never reaches a real bucket.
        result["terraform"] = {"backend": {"local": {"path": "terraform.tfstate"}}}
    return result


class _TransportError(RuntimeError):
    pass


def _run(args: list[str], cwd: Path, env: dict[str, str], stack: str) -> None:
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"terraform {args[1]} of {stack} timed out after {TIMEOUT_S}s") from exc
    (cwd / f"terraform-{args[1]}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-40:])
        message = f"terraform {args[1]} of {stack} failed (exit {done.returncode}):\n{tail}"
        if is_transport_failure(done.stdout + done.stderr):
            raise _TransportError(message)
        raise SandboxError(message)


def is_transport_failure(output: str) -> bool:
    """True when terraform failed on the connection to the sandbox rather than on an API answer."""
    text = output.lower()
    return any(marker in text for marker in TRANSPORT_ERRORS)


# A re-run after a transport failure that meets one of these met a create whose answer the failed attempt lost:
# it is not in the state, so the re-run created it again (AWS's answer to a second create of one name).
ALREADY_EXISTS_MARKERS = ("alreadyexists", "duplicate", "already exists")


def _run_retrying(args: list[str], cwd: Path, env: dict[str, str], stack: str) -> None:
    for attempt in range(1, APPLY_ATTEMPTS + 1):
        try:
            _run(args, cwd, env, stack)
            return
        except SandboxError as exc:
            if attempt > 1 and any(m in str(exc).lower() for m in ALREADY_EXISTS_MARKERS):
                logs = ", ".join(f"terraform-{args[1]}-attempt{n}.log" for n in range(1, attempt))
                raise SandboxError(
                    f"{exc}\n(re-run {attempt} after a connection failure: a create whose answer was lost is not in "
                    f"the state and was sent again; see {logs} in {cwd})"
                ) from None
            raise
        except _TransportError as exc:
            (cwd / f"terraform-{args[1]}-attempt{attempt}.log").write_text(str(exc))
            if attempt == APPLY_ATTEMPTS:
                note = f"(after {APPLY_ATTEMPTS} attempts, each failing on the connection)"
                raise SandboxError(f"{exc}\n{note}") from None


def _deployer_env(sandbox: Sandbox, deployer: str | None) -> dict[str, str]:
    env = {**os.environ, **sandbox.env(), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    # One provider copy (700 MB) for every stack and run, linked instead of copied per stack.
    cache = Path(os.environ.get("ORGGUARD_TF_PLUGIN_CACHE", Path.home() / ".cache" / "orgguard" / "tf-plugins"))
    cache.mkdir(parents=True, exist_ok=True)
    env.setdefault("TF_PLUGIN_CACHE_DIR", str(cache))
    env["TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE"] = "true"
    env.pop("AWS_PROFILE", None)
    # The project's CLI configuration (offline provider mirror) unless the caller chose one that exists.
    project_rc = Path(__file__).resolve().parents[2] / "terraform.rc"
    if not Path(env.get("TF_CLI_CONFIG_FILE") or "/nonexistent").is_file() and project_rc.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(project_rc)
    if deployer and deployer != sandbox.org.management_account_id:
        creds = sandbox.session(deployer).get_credentials().get_frozen_credentials()
        env.update(
            AWS_ACCESS_KEY_ID=creds.access_key,
            AWS_SECRET_ACCESS_KEY=creds.secret_key,
            AWS_SESSION_TOKEN=creds.token or "",
        )
    return env


def apply_stacks(sandbox: Sandbox, synth_out: Path, *, stacks: list[str] | None = None) -> None:
    """terraform init + apply of each stack (org-global first) in a working copy under the sandbox."""
    plan = _plan_manifest(synth_out)
    entries = list(plan["stacks"])
    if stacks is not None:
        unknown = set(stacks) - {s["name"] for s in entries}
        if unknown:
            raise SandboxError(f"unknown stack(s) {sorted(unknown)}; the manifest lists {[s['name'] for s in entries]}")
        entries = [s for s in entries if s["name"] in stacks]
    if shutil.which("terraform") is None:
        raise SandboxError("terraform is not on PATH; install terraform 1.11 (see docs/sandbox.md)")
    deployer_env = _deployer_env(sandbox, (plan.get("organization") or {}).get("deployer_account_id"))
    management_env = _deployer_env(sandbox, None)  # management credentials

    management_id = (plan.get("organization") or {}).get("management_account_id")

    def env_for(entry: dict[str, Any]) -> dict[str, str]:
        in_management = entry.get("kind") == "org-management" or (
            entry.get("kind", "").startswith("org-") and entry.get("account_id") == management_id
        )
        return management_env if in_management else deployer_env

    # Stacks of one level are independent (own state, own region or account): apply them side by side,
    # levels in dependency order, since the provider's waiters mostly sleep.
    shared_modules = synth_out / "modules"  # copied once, before any stack reads it
    if shared_modules.is_dir():
        shutil.copytree(shared_modules, sandbox.workdir / "terraform" / "modules", dirs_exist_ok=True)
    for group in apply_levels(entries):
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
            for future in [pool.submit(_apply_one, sandbox, synth_out, e["name"], env_for(e)) for e in group]:
                future.result()


def apply_levels(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Stacks grouped into levels: each level depends only on earlier ones.

    The manifest's `depends_on` decides where it is recorded; otherwise the kind does (global, then the
    management account's stacks, then accounts and regions)."""
    names = {e["name"] for e in entries}
    if any(e.get("depends_on") for e in entries):
        deps = {e["name"]: set(e.get("depends_on") or []) & names for e in entries}
    else:
        rank = {e["name"]: KIND_ORDER.get(e.get("kind", ""), 1) for e in entries}
        deps = {n: {m for m in names if rank[m] < rank[n]} for n in names}
    levels: list[list[dict[str, Any]]] = []
    done: set[str] = set()
    while len(done) < len(entries):
        ready = [e for e in entries if e["name"] not in done and deps[e["name"]] <= done]
        if not ready:
            cycle = sorted(names - done)
            raise SandboxError(f"stacks {cycle} depend on each other in the manifest; no order can apply them")
        levels.append(ready)
        done.update(e["name"] for e in ready)
    return levels


def _apply_one(sandbox: Sandbox, synth_out: Path, name: str, env: dict[str, str]) -> None:
    source = synth_out / "stacks" / name
    stack_json = json.loads((source / "cdk.tf.json").read_text())
    # Same layout as the output (stacks/<name> beside modules/), so relative module sources resolve.
    work = sandbox.workdir / "terraform" / "stacks" / name
    shutil.copytree(
        source,
        work,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "*_override.tf", "*_override.tf.json"),
    )
    (work / "sandbox_override.tf.json").write_text(json.dumps(override(stack_json, sandbox.endpoint_url), indent=2))
    _run_retrying(["terraform", "init", "-input=false", "-no-color"], work, env, name)
    _run_retrying(["terraform", "apply", "-auto-approve", "-input=false", "-no-color"], work, env, name)
