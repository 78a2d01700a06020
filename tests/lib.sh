# shellcheck shell=bash
# tests/lib.sh — sourced by the installer scripts (chromium.sh, kubectl.sh,
# prometheus.sh). Before sourcing, set PROG (the script's name, prefixed to
# every message) and HINT (how to install by hand; empty for none).

say() { echo "$PROG: $*" >&2; }
die() {
	say "error: $*"
	if [[ -n ${HINT:-} ]]; then say "$HINT"; fi
	exit 1
}

# apt_install WHAT PACKAGE [apt-get install options...] installs Debian's
# PACKAGE with apt-get, as root or through sudo; WHAT names the missing tool
# in the messages. Dies saying why when it cannot.
apt_install() {
	local what=$1 pkg=$2
	shift 2
	local as_root=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "$what is not installed, and installing it needs root or sudo"
		as_root=(sudo)
	fi
	command -v apt-get >/dev/null 2>&1 || die "$what is not installed and apt-get is not available"
	say "installing $pkg with apt-get"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" "$pkg" >/dev/null ||
		die "apt-get install $pkg failed"
}
