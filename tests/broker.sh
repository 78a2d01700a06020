#!/usr/bin/env bash
# tests/broker.sh — make sure a RabbitMQ broker answers AMQP on 127.0.0.1:5672.
#
#   - already answering: does nothing and prints nothing;
#   - rabbitmq-server not installed: installs it with apt-get (as root, or
#     through sudo);
#   - not running: starts it with `rabbitmq-server -detached` and waits for
#     `rabbitmqctl await_startup`, then for the AMQP port.
#
# Exits non-zero with a message saying what failed. Environment:
#   BROKER_HOST (127.0.0.1), BROKER_PORT (5672), BROKER_TIMEOUT (seconds to
#   wait for start-up, 120).
set -euo pipefail

host=${BROKER_HOST:-127.0.0.1}
port=${BROKER_PORT:-5672}
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

if amqp_answers; then
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
