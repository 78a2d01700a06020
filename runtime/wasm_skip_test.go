package runtime

import (
	goruntime "runtime"
	"testing"
)

// skipBusyLoopOnWasm skips a test that interrupts JavaScript spinning in a
// loop from another goroutine: Go's WebAssembly ports run one goroutine at a
// time without preemption, so the interrupting goroutine never runs while
// the loop spins (the WebAssembly host documents it: wasm/host/README.md).
func skipBusyLoopOnWasm(t *testing.T) {
	t.Helper()
	if goruntime.GOARCH == "wasm" {
		t.Skip("a busy JavaScript loop cannot be interrupted under GOARCH=wasm (no preemption)")
	}
}
