#!/usr/bin/env bash
# Install Debian's chromium for the one real-browser dashboard test (tests/test_dashboard_browser.py),
# if it is absent. Playwright's own browser download is not reachable here; the system browser is.
# Safe to run repeatedly; without apt-get or root it says so, and the test skips with the reason.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is absent and apt-get is not available: the browser test will skip" >&2
  exit 0
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo -n"; else
    echo "chromium is absent and this user cannot install packages: the browser test will skip" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq >/dev/null 2>&1 || true
if ! $sudo_cmd apt-get install -y -qq chromium >/dev/null 2>&1; then
  echo "could not install chromium: the browser test will skip" >&2
fi
exit 0
