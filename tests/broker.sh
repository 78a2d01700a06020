#!/usr/bin/env bash
# tests/broker.sh — make sure a RabbitMQ broker answers AMQP on 127.0.0.1:5672.
#
#   - already answering: does nothing and prints nothing;
#   - rabbitmq-server not installed: installs it with apt-get (as root, or
#     through sudo);
#   - not running: starts it with `rabbitmq-server -detached` and waits for
#     `rabbitmqctl await_startup`, then for the AMQP port;
#   - then makes sure the management plugin's HTTP API answers on
#     BROKER_MGMT_PORT (the amqpjs/rabbitmq module and broker metrics use
#     it): when it does not, runs `rabbitmq-plugins enable
#     rabbitmq_management` (idempotent, the broker keeps running) and waits
#     for the port. Nothing is run when the port already answers.
#
# Exits non-zero with a message saying what failed. Environment:
#   BROKER_HOST (127.0.0.1), BROKER_PORT (5672), BROKER_TIMEOUT (seconds to
#   wait for start-up, 120), BROKER_MGMT_PORT (15672), BROKER_MANAGEMENT
#   (1; 0 skips the management plugin).
set -euo pipefail

host=${BROKER_HOST:-127.0.0.1}
port=${BROKER_PORT:-5672}
mgmt_port=${BROKER_MGMT_PORT:-15672}
wait_secs=${BROKER_TIMEOUT:-120}
# rabbitmqctl and rabbitmq-server live in /usr/sbin, often not on a user's PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { echo "broker.sh: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# amqp_answers reports whether the broker answers the AMQP 0-9-1 protocol
# header with a frame (a method frame starts with byte 1: Connection.Start).
amqp_answers() {
	local first
	first=$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "AMQP\x00\x00\x09\x01" >&3
		head -c 1 <&3 | od -An -tu1 | tr -d " \n"
	' amqp_answers "$host" "$port" 2>/dev/null) || return 1
	[[ $first == 1 ]]
}

# Commands that need root run through sudo when we are not root.
as_root=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		as_root=(sudo)
	fi
fi
can_be_root() { [[ $(id -u) -eq 0 || ${#as_root[@]} -gt 0 ]]; }

# mgmt_answers reports whether something accepts TCP connections on the
# management port.
mgmt_answers() {
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' mgmt_answers "$host" "$mgmt_port" 2>/dev/null
}

# ensure_management enables the management plugin unless its port answers,
# then waits for the port.
ensure_management() {
	[[ ${BROKER_MANAGEMENT:-1} == 0 ]] && return 0
	mgmt_answers && return 0
	local plugins=(rabbitmq-plugins)
	if [[ $(id -u) -ne 0 && ${#as_root[@]} -gt 0 ]]; then
		plugins=("${as_root[@]}" rabbitmq-plugins)
	fi
	command -v rabbitmq-plugins >/dev/null 2>&1 ||
		die "the management API does not answer on $host:$mgmt_port and rabbitmq-plugins is missing: enable rabbitmq_management by hand"
	say "enabling the management plugin (rabbitmq-plugins enable rabbitmq_management)"
	timeout 120 "${plugins[@]}" -q enable rabbitmq_management >/dev/null ||
		die "rabbitmq-plugins enable rabbitmq_management failed (run it by hand to see why)"
	local until_t=$((SECONDS + wait_secs))
	until mgmt_answers; do
		((SECONDS < until_t)) || die "the management API does not answer on $host:$mgmt_port ${wait_secs}s after enabling rabbitmq_management"
		sleep 1
	done
	say "management API is up on $host:$mgmt_port"
}

if amqp_answers; then
	ensure_management
	exit 0
fi
command -v timeout >/dev/null 2>&1 || die "the 'timeout' command (coreutils) is missing"

if ! command -v rabbitmqctl >/dev/null 2>&1 || ! command -v rabbitmq-server >/dev/null 2>&1; then
	can_be_root || die "rabbitmq-server is not installed, and installing it needs root or sudo"
	command -v apt-get >/dev/null 2>&1 || die "rabbitmq-server is not installed and apt-get is not available; install RabbitMQ by hand"
	say "installing rabbitmq-server with apt-get"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
		die "apt-get update failed"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null ||
		die "apt-get install rabbitmq-server failed"
	command -v rabbitmqctl >/dev/null 2>&1 || die "rabbitmqctl still missing after installing rabbitmq-server"
	# The package may have started the broker itself.
	if amqp_answers; then
		say "RabbitMQ is up on $host:$port"
		ensure_management
		exit 0
	fi
fi

deadline=$((SECONDS + wait_secs))

if can_be_root; then
	ctl=("${as_root[@]}" rabbitmqctl)
	# A node that is still booting answers rabbitmqctl before the AMQP port.
	if ! timeout 30 "${ctl[@]}" -q status >/dev/null 2>&1; then
		say "starting RabbitMQ (rabbitmq-server -detached)"
		"${as_root[@]}" rabbitmq-server -detached >/dev/null 2>&1 ||
			die "rabbitmq-server -detached failed; see /var/log/rabbitmq/"
	else
		say "RabbitMQ node is running but not answering on $host:$port yet; waiting"
	fi
	# await_startup fails at once while the Erlang node is not reachable yet,
	# so retry it until the deadline.
	until timeout 60 "${ctl[@]}" -q await_startup --timeout 60 >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "RabbitMQ did not start within ${wait_secs}s (rabbitmqctl await_startup); see /var/log/rabbitmq/"
		sleep 1
	done
else
	say "not root and no sudo: cannot start RabbitMQ, only waiting for it on $host:$port"
fi

until amqp_answers; do
	((SECONDS < deadline)) || die "RabbitMQ does not answer AMQP on $host:$port after ${wait_secs}s (is it listening elsewhere? see /var/log/rabbitmq/)"
	sleep 1
done
say "RabbitMQ is up on $host:$port"
ensure_management
