//go:build unix

package merge

import "syscall"

// cpuTime is the process's user and system CPU time in nanoseconds: the
// benchmark reports it beside the wall time, which a loaded machine
// stretches.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
