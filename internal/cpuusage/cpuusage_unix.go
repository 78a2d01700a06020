//go:build unix

package cpuusage

import (
	"syscall"
	"time"
)

// Self returns the process's user and system CPU time so far
// (getrusage(RUSAGE_SELF)); 0, 0 if the call fails.
func Self() (user, system time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
