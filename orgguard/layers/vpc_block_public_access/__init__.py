"""VPC Block Public Access (BPA): the preventive layer, opt-in (issue 12 item 1).

Organization mode attaches an EC2 declarative policy (`DECLARATIVE_POLICY_EC2`) to the chosen target OUs;
account mode sets `aws_vpc_block_public_access_options` in every region of each vended account. Either
way the effect is the same VPC setting per account and region: internet-gateway (and egress-only IGW)
traffic to every VPC and subnet not excluded is blocked, inbound only (`block-ingress`) or both ways
(`block-bidirectional`).

Modules, each importable on its own (the manifest and the config models import the first two, so those
import nothing of orgguard's heavier parts):

- `settings`  the governance-file section `vpc_block_public_access:` and its cross-field checks;
- `entry`     the manifest entry and the policy content (`plan_entry` builds it from the governance file);
- `stacks`    the Terraform resources (organization and account mode);
- `review`    the report's plain words and the diff's flags;
- `verify`    the verifier's checks (per account and region, and the policy in the organization).
"""
