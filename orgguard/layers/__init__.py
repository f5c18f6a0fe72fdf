"""Organization-wide layers that are not Config rules: one folder per layer.

A control (orgguard/controls/) is a detection rule with its remediation; a layer is a guardrail of another
kind that still belongs in one place: its governance-file section, what it adds to the plan and the stacks,
how the report words it, and how the verifier proves it live. `vpc_block_public_access/` is preventive
(an EC2 declarative policy); `notifications/` routes orgguard's findings and failed remediations to a
central bus and topic.
"""
