//go:build unix

package cpuusage

import (
	"testing"
	"time"
)

// The CPU time grows with work done on any goroutine, and Total counts it.
func TestCPUTimeGrowsWithWork(t *testing.T) {
	const work = 20 * time.Millisecond
	before := Total()
	u0, _ := Self()
	done := make(chan uint64)
	go func() {
		x := uint64(1)
		// Spin until Self reports the work; the wall-clock bound only keeps
		// a broken Self from hanging the test.
		for giveUp := time.Now().Add(time.Minute); time.Now().Before(giveUp); {
			for i := 0; i < 1_000_000; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
			if u, _ := Self(); u-u0 >= work {
				break
			}
		}
		done <- x
	}()
	<-done
	if u, _ := Self(); u-u0 < work {
		t.Fatalf("user time grew by %v over a minute of spinning", u-u0)
	}
	if grew := Total() - before; grew < work {
		t.Errorf("Total grew by %v; user time alone grew by %v or more", grew, work)
	}
}
