#!/usr/bin/env bash
# wasm/build.sh — builds amqpjs for WebAssembly (GOOS=js GOARCH=wasm) into
# wasm/host/dist/: amqpjs.wasm and Go's wasm_exec.js (copied from the Go
# toolchain that built it: the two must match). dist/ is not committed.
# The module does not link esbuild: it calls the host's esbuild npm package
# (runtime/transform_js.go), which `npm ci` in wasm/host installs (not done
# here; wasm/ci.sh and the scripts that run the host do it when missing).
#
#   wasm/build.sh            # build (go's build cache makes a rebuild cheap)
#   wasm/build.sh --print    # also print the raw and gzip sizes
#
# Flags:
#   -trimpath, -ldflags '-s -w'   no file paths, symbol table or DWARF (Go's
#                                 wasm tracebacks do not need them)
#   -gcflags=all=-l, then inlining back on for runtime, internal/... and
#   sync/...                      the wasm backend makes every inlined copy
#                                 large: no inlining saves 3 MB raw and
#                                 1.4 MB gzip, but costs 75% more CPU per
#                                 message; inlining only the Go runtime's
#                                 packages gets most of the speed back
#                                 (+10% CPU) for +60 KB gzip
#   -X runtime.godebugDefault=gcstoptheworld=1
#                                 the GC marks with the world stopped: on a
#                                 single-threaded wasm runtime the concurrent
#                                 mark cannot finish while a script computes,
#                                 and the heap grows by GBs (README.md,
#                                 "Memory"); GODEBUG at run time overrides it
# Extra arguments go to `go build`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=wasm/host/dist
mkdir -p "$out"
print=0
if [[ ${1:-} == --print ]]; then
	print=1
	shift
fi
if [[ -n $(GOOS=js GOARCH=wasm go list -f '{{.DefaultGODEBUG}}' ./wasm) ]]; then
	# go build would then pass its own -X runtime.godebugDefault after ours.
	echo "wasm/build.sh: the module has a default GODEBUG; merge it into -X runtime.godebugDefault here" >&2
	exit 1
fi
GOOS=js GOARCH=wasm go build -trimpath \
	-gcflags=all=-l -gcflags=runtime= -gcflags=internal/...= -gcflags=sync/...= \
	-ldflags='-s -w -X=runtime.godebugDefault=gcstoptheworld=1' \
	-o "$out/amqpjs.wasm.tmp" "$@" ./wasm
mv "$out/amqpjs.wasm.tmp" "$out/amqpjs.wasm"
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"
if ((print)); then
	raw=$(wc -c <"$out/amqpjs.wasm")
	gz=$(gzip -9 -c "$out/amqpjs.wasm" | wc -c)
	awk -v f="$out/amqpjs.wasm" -v r="$raw" -v g="$gz" 'BEGIN {
		printf "%s: %d bytes raw (%.1f MiB), %d bytes gzip -9 (%.2f MiB)\n", f, r, r / 1048576, g, g / 1048576 }'
fi
