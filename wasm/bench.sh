#!/usr/bin/env bash
# wasm/bench.sh — publish and consume throughput of the WebAssembly build
# against the native binary, in the same run, against RabbitMQ (AMQP_URL,
# default amqp://guest:guest@localhost:5672/). Builds both, then runs
# wasm/bench/bench.mjs (see there; flags go to it):
#
#   wasm/bench.sh [--n 20000] [--size 256] [--runs 3] [--warmup 5000] [--json FILE]
#
# Not part of CI: a busy machine makes the numbers noisy (the CPU per
# message it prints is the steadier figure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/amqpjs" .
wasm/build.sh --print
if [[ ! -d wasm/host/node_modules/esbuild ]]; then
	(cd wasm/host && npm ci --no-audit --no-fund) # esbuild, which compiles the scripts
fi
node wasm/bench/bench.mjs --native "$tmp/amqpjs" "$@"
