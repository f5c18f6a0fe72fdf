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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgguard.sandbox.sandbox import Sandbox

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
KIND_ORDER = {"org-global": 0, "org-management": 0, "account": 1, "org-region": 2}
TIMEOUT_S = 900
MAX_PARALLEL = 4
PLAN_MANIFEST_NAMES = ("orgguard-manifest.json", "manifest.json")


def _plan_manifest(synth_out: Path) -> dict[str, Any]:
    from orgguard.sandbox.sandbox import SandboxError

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
            "max_retries": 1,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": "true",
            "skip_region_validation": True,
            "s3_use_path_style": True,
        }
        if provider.get("alias"):
            block["alias"] = provider["alias"]
        blocks.append(block)
    return {"provider": {"aws": blocks}}


def _run(args: list[str], cwd: Path, env: dict[str, str], stack: str) -> None:
    from orgguard.sandbox.sandbox import SandboxError

    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"terraform {args[1]} of {stack} timed out after {TIMEOUT_S}s") from exc
    (cwd / f"terraform-{args[1]}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-40:])
        raise SandboxError(f"terraform {args[1]} of {stack} failed (exit {done.returncode}):\n{tail}")


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
    from orgguard.sandbox.sandbox import SandboxError

    plan = _plan_manifest(synth_out)
    entries = sorted(plan["stacks"], key=lambda s: KIND_ORDER.get(s.get("kind", ""), 9))
    if stacks is not None:
        unknown = set(stacks) - {s["name"] for s in entries}
        if unknown:
            raise SandboxError(f"unknown stack(s) {sorted(unknown)}; the manifest lists {[s['name'] for s in entries]}")
        entries = [s for s in entries if s["name"] in stacks]
    if shutil.which("terraform") is None:
        raise SandboxError("terraform is not on PATH; install terraform 1.11 (see docs/sandbox.md)")
    deployer_env = _deployer_env(sandbox, (plan.get("organization") or {}).get("deployer_account_id"))
    management_env = _deployer_env(sandbox, None)  # management credentials

    def env_for(entry: dict[str, Any]) -> dict[str, str]:
        return management_env if entry.get("kind") == "org-management" else deployer_env

    # Stacks of one kind are independent (own state, own region or account): apply them side by side,
    # kinds in order (org-global first), since the provider's waiters mostly sleep.
    for kind in sorted({KIND_ORDER.get(e.get("kind", ""), 9) for e in entries}):
        group = [e for e in entries if KIND_ORDER.get(e.get("kind", ""), 9) == kind]
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
            for future in [pool.submit(_apply_one, sandbox, synth_out, e["name"], env_for(e)) for e in group]:
                future.result()


def _apply_one(sandbox: Sandbox, synth_out: Path, name: str, env: dict[str, str]) -> None:
    source = synth_out / "stacks" / name
    stack_json = json.loads((source / "cdk.tf.json").read_text())
    work = sandbox.workdir / "terraform" / name
    shutil.copytree(source, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (work / "sandbox_override.tf.json").write_text(json.dumps(override(stack_json, sandbox.endpoint_url), indent=2))
    _run(["terraform", "init", "-input=false", "-no-color"], work, env, name)
    _run(["terraform", "apply", "-auto-approve", "-input=false", "-no-color"], work, env, name)
