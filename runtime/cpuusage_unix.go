//go:build unix

package runtime

import "syscall"

// cpuUsage returns the process's user and system CPU time in microseconds
// (getrusage, every thread), for process.cpuUsage().
func cpuUsage() (user, system int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return ru.Utime.Nano() / 1000, ru.Stime.Nano() / 1000
}
