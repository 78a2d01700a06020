package bench

import "github.com/amqpjs/amqpjs/internal/cpuusage"

// cpuSeconds is this process's user+system CPU time (every thread); 0
// where it is not measured.
func cpuSeconds() float64 { return cpuusage.Total().Seconds() }
