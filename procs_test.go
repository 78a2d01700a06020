package main

import (
	goruntime "runtime"
	"testing"
)

func TestProcs(t *testing.T) {
	prev := goruntime.GOMAXPROCS(0)
	t.Cleanup(func() { goruntime.GOMAXPROCS(prev) })

	t.Setenv("GOMAXPROCS", "")
	singleLoopProcs()
	if n := goruntime.GOMAXPROCS(0); n != 1 {
		t.Errorf("a plain script: GOMAXPROCS %d, want 1", n)
	}
	// pkg/amqpjs calls it once the script is a scenario
	// (TestScenarioStarted there).
	scenarioProcs()
	if n := goruntime.GOMAXPROCS(0); n != goruntime.NumCPU() {
		t.Errorf("a scenario: GOMAXPROCS %d, want NumCPU %d", n, goruntime.NumCPU())
	}

	// GOMAXPROCS in the environment wins.
	t.Setenv("GOMAXPROCS", "3")
	goruntime.GOMAXPROCS(3)
	singleLoopProcs()
	if n := goruntime.GOMAXPROCS(0); n != 3 {
		t.Errorf("GOMAXPROCS=3 in the environment, a plain script: got %d", n)
	}
	scenarioProcs()
	if n := goruntime.GOMAXPROCS(0); n != 3 {
		t.Errorf("GOMAXPROCS=3 in the environment, a scenario: got %d", n)
	}
}
