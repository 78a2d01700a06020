//go:build !amqpjs_testhooks

package bindings

// testPanic is a test-only hook (see testhook_on.go); in a normal build it
// does nothing and costs nothing.
func testPanic(string) {}
