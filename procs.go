package main

import (
	"os"
	goruntime "runtime"
)

/*
One thread for one event loop.

A plain script (and the REPL) runs on one event loop: the loop goroutine
executes all JavaScript, and the other goroutines (a reader per connection,
channel executors, timers) only hand it work. With several Ps, every handoff
between them wakes an idle thread through a futex and idle Ps spin in the
scheduler and poll the network: measured with 200 000 deliveries (no_ack),
a third of the process's CPU went there. With GOMAXPROCS 1 the handoffs
stay on one thread, as in Node, and the other cores are left to the broker:
consume CPU per message fell from 0.65–0.78 to 0.45–0.49 s per 100 000
(README, "Performance"). Async preemption still interrupts a script that
computes without yielding, so signals, --timeout and heartbeats still run.

A scenario runs one event loop per VU, in parallel: once the script turns
out to be one (it exports a default function or options.scenarios), all
CPUs are used again.
GOMAXPROCS set in the environment always wins.
*/

// procsAuto reports whether amqpjs chooses GOMAXPROCS (the environment does
// not set it).
func procsAuto() bool { return os.Getenv("GOMAXPROCS") == "" }

// singleLoopProcs runs the process on one P, unless the environment says
// otherwise.
func singleLoopProcs() {
	if procsAuto() {
		goruntime.GOMAXPROCS(1)
	}
}

// scenarioProcs is called when the script has turned out to be a scenario
// (pkg/amqpjs decides, before the VUs start): GOMAXPROCS goes back to the
// number of CPUs (when amqpjs chose it).
func scenarioProcs() {
	if procsAuto() {
		goruntime.GOMAXPROCS(goruntime.NumCPU())
	}
}
