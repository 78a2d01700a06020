package bindings

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// runtime.handleEvent: under js/wasm, the goroutine of Go's runtime
	// that serves calls from JavaScript.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("runtime.handleEvent"))
}
