#!/usr/bin/env bash
# wasm/ci.sh — the WebAssembly stage of tests/run.sh (needs node, no
# broker: the scripts against RabbitMQ on the wasm build are
# TestWasmScripts in tests/, run by the integration stage):
#
#   1. wasm/build.sh (wasm/host/dist/amqpjs.wasm + wasm_exec.js), and the
#      host package's npm dependencies (esbuild; ws, CodeMirror and
#      playwright-core for the playground) when missing (npm ci); the
#      playground page (wasm/host/playground/build.mjs → dist/playground/)
#   2. size budgets: WASM_BUDGET_RAW and WASM_BUDGET_GZIP bytes (gzip -9),
#      and PLAYGROUND_BUDGET for what the page downloads (its gzip files)
#   3. go vet under GOOS=js and GOOS=wasip1 (a compile check for wasip1)
#   4. go test under js/wasm for runtime and bindings, with Go's
#      go_js_wasm_exec (Node), esbuild from wasm/host/node_modules
#      (AMQPJS_ESBUILD)
#   5. the host package's tests (node --test wasm/host/test/)
#   6. the memory test (wasm/test/memory.sh)
#   7. Debian's chromium, installed when missing (apt-get), for the
#      playground's browser test, TestPlayground in tests/, which the
#      integration stage runs against RabbitMQ
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Issue 10's budgets, in bytes (decimal MB): 30 MB raw, 6.5 MB gzip -9.
# They hold because amqpjs.wasm does not link esbuild: the host's esbuild
# npm package compiles the scripts (wasm/host/README.md, "Size").
budget_raw=${WASM_BUDGET_RAW:-30000000}
budget_gzip=${WASM_BUDGET_GZIP:-6500000}
# The playground's download: amqpjs.wasm, wasm_exec.js, the page and its
# worker (CodeMirror included), gzip -9 as served: the wasm budget plus
# 0.5 MB for the editor and the page.
budget_page=${PLAYGROUND_BUDGET:-7000000}

t0=$SECONDS
step() { printf -- '  -- %s (%ds)\n' "$*" "$((SECONDS - t0))"; }

step "build: wasm/build.sh"
wasm/build.sh
for dep in esbuild ws codemirror playwright-core; do
	if [[ ! -f wasm/host/node_modules/$dep/package.json ]]; then
		step "host dependencies: npm ci in wasm/host"
		(cd wasm/host && npm ci --no-audit --no-fund)
		break
	fi
done
step "playground page: wasm/host/playground/build.mjs"
node wasm/host/playground/build.mjs

step "size budgets"
wasm=wasm/host/dist/amqpjs.wasm
raw=$(wc -c <"$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
awk -v r="$raw" -v g="$gz" -v br="$budget_raw" -v bg="$budget_gzip" 'BEGIN {
	printf "     raw  %9d bytes (%5.2f MB), budget %9d (%5.2f MB)\n", r, r / 1e6, br, br / 1e6
	printf "     gzip %9d bytes (%5.2f MB), budget %9d (%5.2f MB)\n", g, g / 1e6, bg, bg / 1e6 }'
if ((raw > budget_raw || gz > budget_gzip)); then
	echo "wasm: $wasm is over its size budget" >&2
	exit 1
fi
page=0
for f in wasm/host/dist/amqpjs.wasm.gz wasm/host/dist/wasm_exec.js.gz wasm/host/dist/playground/{page.js,worker.js}.gz \
	wasm/host/dist/playground/{index.html,style.css}; do
	page=$((page + $(wc -c <"$f")))
done
awk -v p="$page" -v b="$budget_page" 'BEGIN {
	printf "     playground page %9d bytes (%5.2f MB), budget %9d (%5.2f MB)\n", p, p / 1e6, b, b / 1e6 }'
if ((page > budget_page)); then
	echo "wasm: the playground page's download is over its budget" >&2
	exit 1
fi

pkgs=(./runtime/... ./bindings/... ./amqp/... ./pkg/...)
step "go vet, GOOS=js GOARCH=wasm"
GOOS=js GOARCH=wasm go vet "${pkgs[@]}" ./wasm
step "go vet (compile check), GOOS=wasip1 GOARCH=wasm"
GOOS=wasip1 GOARCH=wasm go vet "${pkgs[@]}" ./wasm/wasip1

step "go test under js/wasm: runtime, bindings"
AMQPJS_ESBUILD="$PWD/wasm/host/node_modules/esbuild" \
	PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm \
	go test -count=1 -timeout 8m ./runtime ./bindings

step "host package: node --test wasm/host/test/"
node --test --test-reporter=spec wasm/host/test/

step "memory test: wasm/test/memory.sh"
wasm/test/memory.sh

# TestPlayground (tests/) drives the page in Debian's chromium; npm's
# playwright-core downloads no browser. tests/chromium.sh installs it when
# missing (and fails saying how to install it otherwise).
if [[ -z ${AMQPJS_CHROMIUM:-} ]]; then
	step "chromium for the playground test: tests/chromium.sh"
	tests/chromium.sh >/dev/null
fi

step "done"
