#!/usr/bin/env bash
# tests/prometheus.sh — make sure the `prometheus` server binary is installed
# (Debian's package), for the remote-write test (tests/prometheus_integration_test.go),
# which starts its own server on a free loopback port with a temporary storage
# directory and stops it afterwards.
#
#   - already installed (on PATH, or $PROMETHEUS_BIN): prints nothing;
#   - missing: installs it with apt-get (as root, or through sudo).
#
# The package's own service is not used (and not started here). Exits
# non-zero with a message saying what failed.
set -euo pipefail

PROG=prometheus.sh
HINT="install Prometheus by hand (Debian/Ubuntu: sudo apt-get install prometheus) or set PROMETHEUS_BIN=/path/to/prometheus"
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n ${PROMETHEUS_BIN:-} ]]; then
	[[ -x $PROMETHEUS_BIN ]] || die "PROMETHEUS_BIN=$PROMETHEUS_BIN is not an executable"
	exit 0
fi
if command -v prometheus >/dev/null 2>&1; then
	exit 0
fi

# --no-install-recommends: the server alone, without the node exporter.
apt_install prometheus prometheus --no-install-recommends
command -v prometheus >/dev/null 2>&1 || die "prometheus still missing after installing the package"
say "installed $(prometheus --version 2>&1 | head -1)"
