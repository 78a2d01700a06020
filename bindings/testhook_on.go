//go:build amqpjs_testhooks

package bindings

import "os"

// injectPanicAt is where a binary built with the amqpjs_testhooks tag (the
// one the end-to-end tests build) panics on purpose: the value of
// $AMQPJS_TEST_PANIC, one of the sites below. It is how the tests check that
// a Go panic in a binding reaches the user as an internal error (exit 70,
// one line, the stack in a file) and never as a goroutine dump.
var injectPanicAt = os.Getenv("AMQPJS_TEST_PANIC")

// testPanic panics when site is the one asked for. Sites: "publish" (the
// publish and basic_publish bindings, on the loop), "deliver" (a consumer
// handing a delivery to its callback, on the loop).
func testPanic(site string) {
	if site == injectPanicAt {
		panic("injected test panic at " + site + " (AMQPJS_TEST_PANIC)")
	}
}
