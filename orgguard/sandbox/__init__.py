"""Local sandbox: moto on 127.0.0.1 with a fake AWS organization, extended where the loop needs it.

Use ``with Sandbox(tmp_path) as sb:`` and point boto3 at ``sb.session(account)`` or terraform and
subprocesses at ``sb.env()``. See docs/sandbox.md.
"""

from orgguard.sandbox.org import FakeOrg
from orgguard.sandbox.sandbox import Sandbox, SandboxError

__all__ = ["FakeOrg", "Sandbox", "SandboxError"]
