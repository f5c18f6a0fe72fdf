#!/usr/bin/env bash
# System packages the suite needs beyond Python: terraform and its offline AWS provider mirror are
# expected on the machine (see README); headless Chromium renders the review report in a test.
set -euo pipefail
missing=()
command -v terraform >/dev/null || { echo "terraform is not installed (need 1.11.x on PATH)" >&2; exit 1; }
[ -d /opt/tf-plugins/registry.terraform.io/hashicorp/aws ] || {
  echo "the AWS provider mirror /opt/tf-plugins is missing (see README: Requirements)" >&2; exit 1; }
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: cannot install ${missing[*]} (not root, no sudo); the browser test will be skipped" >&2
  fi
fi
