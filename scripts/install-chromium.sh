#!/usr/bin/env bash
# Installs headless Chromium from Debian's `chromium` package for the docs browser test
# (`make docs-test`). Does nothing when it is already there. Works as root (CI) and as a
# user with sudo. CHROMIUM overrides the binary's path.
set -euo pipefail

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "install-chromium: $chromium is missing and this is not a Debian/Ubuntu system;" >&2
  echo "install Chromium yourself and set CHROMIUM=/path/to/chromium" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

echo "install-chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null

if [ ! -x "$chromium" ]; then
  echo "install-chromium: apt-get installed chromium but $chromium is still missing" >&2
  exit 1
fi
"$chromium" --version
