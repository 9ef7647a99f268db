#!/usr/bin/env bash
# Debian's chromium, for the e2e test that opens `rli bmj report --html` pages in a headless browser
# (playwright-core drives it; no browser is downloaded). Idempotent: installs only when `chromium` is
# missing. Needs root.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
