#!/usr/bin/env bash
# Installs Debian's chromium for the e2e test (npm run test:e2e), unless it is there.
# playwright-core drives it through executablePath; no browser is downloaded.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: already installed at /usr/bin/chromium"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium
test -x /usr/bin/chromium
echo "chromium: installed at /usr/bin/chromium"
