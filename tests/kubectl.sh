#!/usr/bin/env bash
# tests/kubectl.sh — make sure a kubectl client is installed and print its
# path on stdout (the only thing printed there). The Kubernetes tests
# (tests/kubernetes_test.go) use it offline only: `kubectl create configmap
# --dry-run=client` in deploy/kubernetes/run.sh --render, and `kubectl set
# image --local` to decode the Job into Kubernetes' own types. No cluster
# is contacted.
#
#   - already installed (kubectl on PATH, or $KUBECTL): prints its path;
#   - else installs Debian's `kubernetes-client` package with apt-get (as
#     root, or through sudo), then prints its path.
#
# Debian 12's kubernetes-client is kubectl 1.20, older than Indexed Jobs
# (1.24): the test that decodes the Job into Kubernetes' types says so and
# is skipped with it; a newer kubectl (https://kubernetes.io/docs/tasks/tools/)
# on PATH or in $KUBECTL runs it. Exits non-zero with a message on stderr
# saying what failed.
set -euo pipefail

say() { echo "kubectl.sh: $*" >&2; }
die() {
	say "error: $*"
	say "install kubectl by hand (Debian/Ubuntu: sudo apt-get install kubernetes-client, or https://kubernetes.io/docs/tasks/tools/) or set KUBECTL=/path/to/kubectl"
	exit 1
}

if [[ -n ${KUBECTL:-} ]]; then
	command -v "$KUBECTL" 2>/dev/null && exit 0
	die "KUBECTL=$KUBECTL is not an executable"
fi
if command -v kubectl 2>/dev/null; then
	exit 0
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null 2>&1 || die "kubectl is not installed, and installing it needs root or sudo"
	as_root=(sudo)
fi
command -v apt-get >/dev/null 2>&1 || die "kubectl is not installed and apt-get is not available"
say "installing kubernetes-client (kubectl) with apt-get"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null ||
	die "apt-get install kubernetes-client failed"
command -v kubectl 2>/dev/null || die "kubectl is still missing after installing kubernetes-client"
