// Package cpuusage reads the CPU time this process has used, every thread
// counted: process.cpuUsage() in scripts, and the cpu-ns/op and CPU columns
// of the benchmarks.
package cpuusage

import "time"

// Total returns the process's user plus system CPU time so far; 0 where it
// is not measured.
func Total() time.Duration {
	user, system := Self()
	return user + system
}
