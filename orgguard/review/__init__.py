"""Plan review for compliance owners: the manifest as a readable report, a diff and an approval gate.

Compliance owners approve guardrail changes before they reach hundreds of accounts; this package
turns the plan manifest into a page they can read without Terraform, and lets a pipeline refuse a
risky change (a widened role, a disabled control, a new exclusion) unless it was explicitly approved.
Entry points: ``render.render_report``, ``diff.diff_manifests``, ``approval.evaluate_gate``.
"""
