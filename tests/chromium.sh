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

PROG=chromium.sh
HINT="install Chromium by hand (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM=/path/to/chromium"
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

apt_install chromium chromium
find_chromium || die "chromium is still missing after installing the package"
