#!/usr/bin/env bash
# tests/run.sh — the whole test suite of amqpjs, the one command CI and
# people run:
#
#   1. go mod download
#   2. gofmt (every tracked .go file must be formatted)
#   3. go vet, without and with the integration tag
#   4. tests/kubectl.sh: a kubectl client (Debian's kubernetes-client if
#      missing), used offline by the Kubernetes recipe's tests; then unit
#      tests: go test -race ./... (no broker needed; includes the
#      end-to-end CLI tests in tests/)
#   5. tests/broker.sh: RabbitMQ on 127.0.0.1:5672 (installed/started if needed);
#      tests/prometheus.sh: Debian's prometheus binary (installed if needed;
#      the test starts its own server on a free port)
#   6. wasm/ci.sh: the WebAssembly build (needs node): size budgets, vet and
#      go test under js/wasm, the host package's tests, the memory test
#   7. integration tests: go test -race -tags integration ./... (amqp/ against
#      the broker, tests/ running scripts through the built binary and, on
#      the wasm build, through node wasm/host/bin.mjs and through the
#      playground page in headless Chromium)
#
# Extra arguments are passed to both `go test` runs (e.g. -run, -v).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=$SECONDS
stage() { printf '\n==> %s\n' "$*"; }
ok() { printf '    ok (%ds)\n' "$((SECONDS - started))"; }

stage "go mod download"
go mod download
ok

stage "gofmt"
mapfile -t gofiles < <(git ls-files '*.go')
if ((${#gofiles[@]} > 0)); then
	unformatted=$(gofmt -l "${gofiles[@]}")
	if [[ -n $unformatted ]]; then
		echo "these files are not gofmt-formatted (run gofmt -w on them):" >&2
		echo "$unformatted" | sed 's/^/    /' >&2
		exit 1
	fi
fi
ok

stage "go vet ./..."
go vet ./...
ok

stage "go vet -tags integration ./..."
go vet -tags integration ./...
ok

stage "kubectl: tests/kubectl.sh (offline checks of deploy/kubernetes, no cluster)"
tests/kubectl.sh >/dev/null
ok

stage "unit tests: go test -race -count=1 ./..."
go test -race -count=1 -timeout 8m "$@" ./...
ok

stage "broker: tests/broker.sh"
tests/broker.sh
ok

stage "prometheus: tests/prometheus.sh (the server binary, for --out prometheus)"
tests/prometheus.sh
ok

stage "WebAssembly: wasm/ci.sh (build, size budgets, vet, go test under js/wasm, host tests, memory)"
wasm/ci.sh
# The integration stage then runs scripts on the wasm build (TestWasmScripts).
export AMQPJS_WASM_REQUIRED=1
ok

stage "integration tests: go test -race -count=1 -tags integration ./..."
go test -race -count=1 -timeout 20m -tags integration "$@" ./...
ok

printf '\nall tests passed in %ds\n' "$((SECONDS - started))"
