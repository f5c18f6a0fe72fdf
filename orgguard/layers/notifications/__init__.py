"""Notifications (opt-in `notifications:`): findings and failed remediation runs to one central bus and topic.

Member side, in every account and region in scope: two EventBridge rules on the default bus, one for an
orgguard Config rule turning NON_COMPLIANT, one for an orgguard runbook's Automation run ending Failed,
TimedOut or Cancelled. Each targets the central bus with a role allowed only events:PutEvents on it (an
organization-wide bus grant requires a RoleArn on the sender's target, EventBridge PutPermission API
reference). Central side, in `notifications.account_id`: the bus `<prefix>-findings`, whose policy admits
PutEvents only from principals of the organization (aws:PrincipalOrgID), one rule matching the same
patterns, and an SNS topic whose policy lets only that rule publish, with the configured subscriptions.

Modules: settings (the governance model), entry (the manifest entry), patterns (event patterns and the
policies), plan (governance -> entry), stacks (Terraform: the central stack and the member rules), report
(plain words), verify (the verifier's checks). This file imports nothing: orgguard/config/models.py imports
settings, and must not pull the rest in.
"""
