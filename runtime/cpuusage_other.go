//go:build !unix

package runtime

// cpuUsage is not measured on this platform: process.cpuUsage() reports 0.
func cpuUsage() (user, system int64) { return 0, 0 }
