"""Run one aws:executeScript step: the script's handler with its payload, in this fresh process.

Reads ``{"script", "handler", "payload"}`` as JSON on stdin and prints the handler's return value as
JSON on stdout. The parent sets the environment (role credentials, region, sandbox endpoint), so
the handler's boto3 calls land in the right account, as SSM Automation would arrange.
"""

import json
import sys
import types


def main() -> int:
    job = json.load(sys.stdin)
    module = types.ModuleType("automation_script")
    exec(compile(job["script"], "<aws:executeScript>", "exec"), module.__dict__)  # the document's own code
    handler = getattr(module, job["handler"], None)
    if handler is None:
        print(f"handler {job['handler']!r} not found in the script", file=sys.stderr)
        return 2
    result = handler(job["payload"], {})
    sys.stdout.write(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
