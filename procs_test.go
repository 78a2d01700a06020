package main

import (
	goruntime "runtime"
	"testing"

	"github.com/dop251/goja"
)

func TestProcs(t *testing.T) {
	prev := goruntime.GOMAXPROCS(0)
	t.Cleanup(func() { goruntime.GOMAXPROCS(prev) })
	vm := goja.New()
	plain, _ := vm.RunString(`({ options: {} })`)
	sc, _ := vm.RunString(`({ default() {} })`)
	called := 0
	hook := scenarioProcs(func(*goja.Runtime, *goja.Object) error { called++; return nil })

	t.Setenv("GOMAXPROCS", "")
	singleLoopProcs()
	if n := goruntime.GOMAXPROCS(0); n != 1 {
		t.Errorf("a plain script: GOMAXPROCS %d, want 1", n)
	}
	_ = hook(vm, plain.ToObject(vm))
	if n := goruntime.GOMAXPROCS(0); n != 1 {
		t.Errorf("after the hook of a script without a default export: GOMAXPROCS %d, want 1", n)
	}
	_ = hook(vm, sc.ToObject(vm))
	if n := goruntime.GOMAXPROCS(0); n != goruntime.NumCPU() {
		t.Errorf("a scenario: GOMAXPROCS %d, want NumCPU %d", n, goruntime.NumCPU())
	}
	if called != 2 {
		t.Errorf("the scenario hook ran %d times, want 2", called)
	}

	// GOMAXPROCS in the environment wins.
	t.Setenv("GOMAXPROCS", "3")
	goruntime.GOMAXPROCS(3)
	singleLoopProcs()
	_ = hook(vm, sc.ToObject(vm))
	if n := goruntime.GOMAXPROCS(0); n != 3 {
		t.Errorf("GOMAXPROCS=3 in the environment: got %d", n)
	}
}
