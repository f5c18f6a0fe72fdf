"""Each stack's terraform backend, as the plan manifest records it (orgguard/synth/stacks.py)."""

from __future__ import annotations

from cdktn import LocalBackend, S3Backend, S3BackendAssumeRoleConfig, TerraformBackend, TerraformStack

from orgguard.manifest import StateBackend
from orgguard.synth.plan import Plan
from orgguard.synth.stacks import LOCAL_STATE_FILE


def place_backend(stack: TerraformStack, plan: Plan) -> TerraformBackend:
    """The backend of the manifest's entry for this stack; a stack the manifest does not list keeps the
    local default (terraform.tfstate beside cdk.tf.json, which synth never overwrites)."""
    name = stack.node.id
    entry = next((s.backend for s in plan.manifest.stacks if s.name == name), StateBackend())
    if entry.type == "local":
        return LocalBackend(stack, path=entry.path or LOCAL_STATE_FILE)
    backend = S3Backend(
        stack,
        bucket=entry.bucket or "",
        key=entry.key or "",
        region=entry.region,
        encrypt=entry.encrypt,
        kms_key_id=entry.kms_key_id,
        dynamodb_table=entry.dynamodb_table,
        assume_role=S3BackendAssumeRoleConfig(role_arn=entry.role_arn) if entry.role_arn else None,
    )
    if entry.use_lockfile is not None:
        # cdktf 0.21's S3Backend predates terraform 1.10's S3-native locking argument.
        backend.add_override("use_lockfile", entry.use_lockfile)
    return backend
