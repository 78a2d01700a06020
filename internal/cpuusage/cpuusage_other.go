//go:build !unix

package cpuusage

import "time"

// Self is not measured on this platform (WebAssembly, Windows): 0, 0.
func Self() (user, system time.Duration) { return 0, 0 }
