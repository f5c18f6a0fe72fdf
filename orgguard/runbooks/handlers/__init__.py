"""Runbook handlers: self-contained modules (stdlib + boto3) embedded verbatim into SSM documents."""
