package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// hookBinaries are amqpjs built with the amqpjs_testhooks tag (see
// bindings/testhook_on.go and testhooks_on.go): AMQPJS_TEST_PANIC injects a
// Go panic, AMQPJS_TEST_LEAKS=1 makes the run fail (exit 3) when it leaves
// goroutines behind. One plain build and one with the race detector, each
// made once per test process, on first use.
var hookBinaries struct {
	sync.Mutex
	dir   string
	built map[bool]string
}

// hookBinary returns the path of the test-hooks build of amqpjs (race: with
// -race). It fails the test when the build fails.
func hookBinary(t testing.TB, race bool) string {
	t.Helper()
	hookBinaries.Lock()
	defer hookBinaries.Unlock()
	if p, ok := hookBinaries.built[race]; ok {
		if p == "" {
			t.Fatal("the test-hooks build of amqpjs failed earlier")
		}
		return p
	}
	if hookBinaries.built == nil {
		hookBinaries.built = map[bool]string{}
	}
	if hookBinaries.dir == "" {
		d, err := os.MkdirTemp("", "amqpjs-hooks-")
		if err != nil {
			t.Fatal(err)
		}
		hookBinaries.dir = d
	}
	name := "amqpjs-hooks"
	args := []string{"build", "-tags", "amqpjs_testhooks"}
	if race {
		name += "-race"
		args = append(args, "-race")
	}
	path := filepath.Join(hookBinaries.dir, name)
	cmd := exec.Command("go", append(args, "-o", path, ".")...)
	cmd.Dir = repoRoot
	hookBinaries.built[race] = ""
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building amqpjs with test hooks: %v\n%s", err, out)
	}
	hookBinaries.built[race] = path
	return path
}

// removeHookBinaries is called by testMain at the end.
func removeHookBinaries() {
	if hookBinaries.dir != "" {
		os.RemoveAll(hookBinaries.dir)
	}
}
