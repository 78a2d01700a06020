//go:build amqpjs_testhooks

package main

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/goleak"
)

// exitLeak is the exit code of a run that left goroutines behind, in a
// binary built for the tests with AMQPJS_TEST_LEAKS=1.
const exitLeak = 3

// afterRun, in a binary built with the amqpjs_testhooks tag (the tests'),
// checks with AMQPJS_TEST_LEAKS=1 that the run left no goroutine behind:
// every connection, consumer, VU and timer has ended by the time run
// returns. A leak is printed and the exit code becomes 3.
func afterRun(code int, stderr io.Writer) int {
	if os.Getenv("AMQPJS_TEST_LEAKS") != "1" {
		return code
	}
	err := goleak.Find(
		// signal.Notify's watcher lives as long as the process.
		goleak.IgnoreTopFunction("os/signal.signal_recv"),
		goleak.IgnoreAnyFunction("os/signal.loop"),
	)
	if err != nil {
		fmt.Fprintf(stderr, "amqpjs: goroutine leak after the run (exit code was %d): %v\n", code, err)
		return exitLeak
	}
	return code
}
