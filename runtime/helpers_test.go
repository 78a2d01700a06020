package runtime

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// safety bounds a run so that a broken loop fails the test instead of
// hanging it. It is never used to assert how long something takes.
const safety = 60 * time.Second

// result is what a script run produced.
type result struct {
	rt      *Runtime
	stdout  string
	stderr  string
	err     error
	exports any
}

// runFiles writes files into a temporary directory and runs main (a key of
// files) as the main script.
func runFiles(t *testing.T, main string, files map[string]string, args ...string) result {
	t.Helper()
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, files)
	return runPath(t, filepath.Join(dir, filepath.FromSlash(main)), args...)
}

// runScript runs src as the main script main.js.
func runScript(t *testing.T, src string) result {
	t.Helper()
	return runFiles(t, "main.js", map[string]string{"main.js": src})
}

// runPath runs the script at path with a fresh runtime.
func runPath(t *testing.T, path string, args ...string) result {
	t.Helper()
	var stdout, stderr testutil.SyncBuffer
	rt := New(Options{Stdout: &stdout, Stderr: &stderr, Args: args, Env: map[string]string{"AMQPJS_TEST": "1"}})
	ctx, cancel := context.WithTimeoutCause(context.Background(), safety, errSafety)
	defer cancel()
	exports, err := rt.RunFile(ctx, path)
	if errors.Is(err, errSafety) {
		t.Fatalf("script %s did not finish within %s\nstdout:\n%s\nstderr:\n%s", path, safety, stdout.String(), stderr.String())
	}
	var ex any
	if exports != nil {
		ex = exports.Export()
	}
	return result{rt: rt, stdout: stdout.String(), stderr: stderr.String(), err: err, exports: ex}
}

var errSafety = errors.New("test safety timeout")

// mustRun runs src and fails the test on any error; it returns stdout.
func mustRun(t *testing.T, src string) string {
	t.Helper()
	res := runScript(t, src)
	if res.err != nil {
		t.Fatalf("run: %s\nstderr:\n%s", res.rt.FormatError(res.err), res.stderr)
	}
	return res.stdout
}

// wantOut compares got with want and reports a failure with both.
func wantOut(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("output:\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// errorAs is errors.As in a test: the T in err's chain, or a fatal failure.
func errorAs[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("err: got %T %v, want %T", err, err, target)
	}
	return target
}
