package tests

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestCLISecondSigint: when the first Ctrl-C cannot end the run, a second
// one exits at once with 130. The script is made to hang where a JavaScript
// interrupt cannot reach it: in one write of 4 MiB to a pipe nobody reads.
func TestCLISecondSigint(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	path := WriteScript(t, "stuck.js", "console.error('ready');\nprocess.stdout.write('x'.repeat(4 << 20));\nconsole.error('write returned');\n")
	p := Start(t, Opts{Args: []string{"run", path}, Stdout: w})
	w.Close() // the child has its own copy
	p.WaitFor("ready", func() bool { return strings.Contains(p.Stderr(), "ready") })
	size := pipeSize(t, r)
	p.WaitFor("a full stdout pipe", func() bool { return pipeUnread(t, r) >= size })

	p.Signal(os.Interrupt) // cancels the run, but the loop is stuck in the write
	// A second SIGINT sent before the first was taken would merge with it
	// (signals are not queued), so repeat it until the process ends.
	for done := false; !done; {
		select {
		case <-p.done:
			done = true
		case <-time.After(50 * time.Millisecond):
			_ = p.cmd.Process.Signal(os.Interrupt) // fails only if it just ended
		}
	}
	res := p.Wait()
	if res.Code != 130 {
		t.Errorf("exit code: got %d, want 130\n%s", res.Code, res)
	}
	if !strings.Contains(res.Stderr, "interrupted twice") {
		t.Errorf("stderr: got %q, want it to contain %q", res.Stderr, "interrupted twice")
	}
	if strings.Contains(res.Stderr, "write returned") {
		t.Errorf("stderr: got %q; the write should never have returned", res.Stderr)
	}
}

// pipeSize returns the capacity of the pipe (fcntl F_GETPIPE_SZ).
func pipeSize(t *testing.T, f *os.File) int {
	t.Helper()
	const fGetPipeSz = 1032
	n, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fGetPipeSz, 0)
	if errno != 0 {
		t.Fatalf("F_GETPIPE_SZ: %v", errno)
	}
	return int(n)
}

// pipeUnread returns the number of unread bytes in the pipe (FIONREAD).
func pipeUnread(t *testing.T, f *os.File) int {
	t.Helper()
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("FIONREAD: %v", errno)
	}
	return int(n)
}
