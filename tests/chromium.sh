#!/usr/bin/env bash
# tests/chromium.sh — make sure a headless-capable Chromium is installed and
# print its path on stdout (the only thing printed there).
#
#   - already installed (chromium, chromium-browser, google-chrome, or
#     $CHROMIUM): prints its path;
#   - else installs Debian's `chromium` package with apt-get (as root, or
#     through sudo), then prints its path.
#
# Exits non-zero with a message on stderr saying what failed and how to
# install it by hand. Used by the browser test of the HTML report
# (tests/report_browser_integration_test.go).
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }
die() {
	say "error: $*"
	say "install Chromium by hand (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM=/path/to/chromium"
	exit 1
}

find_chromium() {
	if [[ -n ${CHROMIUM:-} ]]; then
		command -v "$CHROMIUM" 2>/dev/null && return 0
		die "CHROMIUM=$CHROMIUM is not an executable"
	fi
	local c
	for c in chromium chromium-browser google-chrome-stable google-chrome; do
		command -v "$c" 2>/dev/null && return 0
	done
	return 1
}

if find_chromium; then
	exit 0
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null 2>&1 || die "chromium is not installed, and installing it needs root or sudo"
	as_root=(sudo)
fi
command -v apt-get >/dev/null 2>&1 || die "chromium is not installed and apt-get is not available"
say "installing chromium with apt-get"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
	die "apt-get install chromium failed"
find_chromium || die "chromium is still missing after installing the package"
