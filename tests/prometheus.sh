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

say() { echo "prometheus.sh: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

if [[ -n ${PROMETHEUS_BIN:-} ]]; then
	[[ -x $PROMETHEUS_BIN ]] || die "PROMETHEUS_BIN=$PROMETHEUS_BIN is not an executable"
	exit 0
fi
if command -v prometheus >/dev/null 2>&1; then
	exit 0
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null 2>&1 || die "prometheus is not installed, and installing it needs root or sudo (apt-get install prometheus)"
	as_root=(sudo)
fi
command -v apt-get >/dev/null 2>&1 || die "prometheus is not installed and apt-get is not available; install Prometheus by hand or set PROMETHEUS_BIN"
say "installing prometheus with apt-get"
# --no-install-recommends: the server alone, without the node exporter.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
	die "apt-get install prometheus failed"
command -v prometheus >/dev/null 2>&1 || die "prometheus still missing after installing the package"
say "installed $(prometheus --version 2>&1 | head -1)"
