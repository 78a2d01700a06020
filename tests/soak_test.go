//go:build integration

// TestSoak publishes and consumes 5 000 messages a second for a long while
// (testdata/soak/soak.js: publisher confirms on one connection, manual acks
// with prefetch 500 on another, a durable queue of its own) and checks that
// memory stays flat: RSS is sampled every 10 s; after a minute of warm-up
// (or a tenth of the run, whichever is shorter) it may not grow by more
// than 32 MiB, nor peak 64 MiB above its first sample. Every confirmed
// message must be consumed. Not part of CI: it runs only when AMQPJS_SOAK
// says for how long.
//
//	AMQPJS_SOAK=10m go test -tags integration -run TestSoak ./tests/ -count=1 -v -timeout 20m
//	AMQPJS_SOAK_RATE=5000 (messages a second), AMQPJS_SOAK_SIZE=256 (bytes)
package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSoak(t *testing.T) {
	spec := os.Getenv("AMQPJS_SOAK")
	if spec == "" {
		t.Skip("set AMQPJS_SOAK=10m to run the soak (not part of CI)")
	}
	d, err := time.ParseDuration(spec)
	if err != nil || d < 30*time.Second {
		t.Fatalf("AMQPJS_SOAK=%q: want a duration of at least 30s (RSS is sampled every 10 s)", spec)
	}
	rate := envOr("AMQPJS_SOAK_RATE", "5000")
	size := envOr("AMQPJS_SOAK_SIZE", "256")
	script, err := filepath.Abs(filepath.Join("testdata", "soak", "soak.js"))
	if err != nil {
		t.Fatal(err)
	}
	queue := uniqueName(t, "q")
	ctx, cancel := context.WithTimeout(context.Background(), d+3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd, pipe, stderr := startPiped(t, ctx, binPath, []string{"run", "--timeout", (d + 2*time.Minute).String(), script},
		[]string{"AMQP_URL=" + aioamqpURL(), "SOAK_SECONDS=" + strconv.Itoa(int(d/time.Second)),
			"SOAK_RATE=" + rate, "SOAK_SIZE=" + size, "SOAK_QUEUE=" + queue})
	pid := cmd.Process.Pid

	type sample struct {
		at  time.Duration
		rss int64
	}
	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if rss := readRSS(pid); rss > 0 {
					mu.Lock()
					samples = append(samples, sample{time.Since(start), rss})
					mu.Unlock()
				}
			}
		}
	}()

	statsRe := regexp.MustCompile(`@@stats t=(\d+) .*pubRate=(\d+) subRate=(\d+)`)
	var stdout strings.Builder
	var done bool
	var lowRates []string
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		stdout.WriteString(line + "\n")
		if m := statsRe.FindStringSubmatch(line); m != nil && !strings.HasSuffix(line, " final") {
			mu.Lock()
			rss := int64(0)
			if len(samples) > 0 {
				rss = samples[len(samples)-1].rss
			}
			mu.Unlock()
			t.Logf("%s (RSS %.1f MiB)", strings.TrimPrefix(line, "@@stats "), float64(rss)/(1<<20))
			want, _ := strconv.Atoi(rate)
			if got, _ := strconv.Atoi(m[2]); got < want*95/100 {
				lowRates = append(lowRates, fmt.Sprintf("t=%ss: %d msg/s", m[1], got))
			}
		}
		if strings.HasPrefix(line, "@@done ") {
			done = true
		}
	}
	err = cmd.Wait()
	close(stop)
	wg.Wait()
	if err != nil || !done {
		t.Fatalf("the soak failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if len(lowRates) > 0 {
		t.Errorf("the publish rate fell below 95%% of %s msg/s: %s", rate, strings.Join(lowRates, ", "))
	}
	if len(samples) < 3 {
		t.Fatalf("only %d RSS samples", len(samples))
	}
	warm := min(time.Minute, d/10)
	first, last, peak := samples[0], samples[len(samples)-1], samples[0]
	var base sample
	for _, s := range samples {
		if s.rss > peak.rss {
			peak = s
		}
		if base.at == 0 && s.at >= warm {
			base = s
		}
	}
	if base.at == 0 {
		base = first
	}
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	t.Logf("RSS over %s at %s msg/s (%d samples, every 10 s): first %s (at %s), after warm-up %s (at %s), last %s (at %s), max %s (at %s)",
		d, rate, len(samples), mib(first.rss), first.at.Round(time.Second), mib(base.rss), base.at.Round(time.Second),
		mib(last.rss), last.at.Round(time.Second), mib(peak.rss), peak.at.Round(time.Second))
	t.Log(lastLine(stdout.String()))
	if last.rss-base.rss > 32<<20 {
		t.Errorf("RSS grew by %s after warm-up", mib(last.rss-base.rss))
	}
	if peak.rss-first.rss > 64<<20 {
		t.Errorf("RSS peaked %s above its first sample", mib(peak.rss-first.rss))
	}
}
