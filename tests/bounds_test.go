//go:build integration

// Bounds: a no_ack consumer on a fast queue does not grow memory without
// bound. The test publishes 200 000 messages of 1 KiB as fast as it can to
// a consumer whose callback is slower (testdata/bounds/noack_slow.js), and
// samples the process's RSS and the broker's count of unacknowledged
// messages of the queue: with the default no_ack_window (1000) the unacked
// count never exceeds the window and RSS grows by a few MiB, while the
// consumer still gets every message, in order. A control run with
// no_ack_window 0 (the broker's own no_ack) and 50 000 messages shows the
// growth the window prevents.
//
// The non-race binary is used even under -race: RSS is the measure.
//
//	go test -tags integration -run TestNoAckBound ./tests/ -count=1 -v
package tests

import (
	"bufio"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/amqp"
)

const (
	boundMessages = 200000
	boundSize     = 1024
	boundWindow   = 1000 // bindings.defaultNoAckWindow
	// boundGrowth is the RSS growth allowed over the consumer's baseline:
	// far below the ~200 MiB of payload an unbounded backlog would hold.
	boundGrowth = 64 << 20
)

func TestNoAckBound(t *testing.T) {
	var boundedGrowth int64
	for _, style := range []string{"callback", "iterator"} {
		t.Run(style, func(t *testing.T) {
			r := runNoAckBound(t, style, "", boundMessages)
			if r.maxUnacked > boundWindow {
				t.Errorf("the broker had %d unacknowledged messages out to the consumer, more than the window of %d", r.maxUnacked, boundWindow)
			}
			if r.growth() > boundGrowth {
				t.Errorf("RSS grew by %d MiB (baseline %d MiB, peak %d MiB), more than %d MiB", r.growth()>>20, r.baseRSS>>20, r.maxRSS>>20, boundGrowth>>20)
			}
			if style == "callback" {
				boundedGrowth = r.growth()
			}
		})
	}
	t.Run("control-window-0", func(t *testing.T) {
		// The broker's own no_ack: nothing bounds the client side. This
		// only shows what the window prevents (with a quarter of the
		// messages, to save time); it asserts no bound.
		r := runNoAckBound(t, "callback", "0", boundMessages/4)
		t.Logf("without the window: RSS grew by %d MiB (with it: %d MiB)", r.growth()>>20, boundedGrowth>>20)
	})
}

type boundResult struct {
	baseRSS, maxRSS int64
	maxUnacked      int
}

func (r boundResult) growth() int64 { return r.maxRSS - r.baseRSS }

func runNoAckBound(t *testing.T, style, window string, n int) boundResult {
	queue := uniqueName(t, "q")
	script, err := filepath.Abs(filepath.Join("testdata", "bounds", "noack_slow.js"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"AMQP_URL=" + aioamqpURL(), "BOUND_QUEUE=" + queue, "BOUND_N=" + strconv.Itoa(n),
		"BOUND_SIZE=" + strconv.Itoa(boundSize), "BOUND_STYLE=" + style, "BOUND_WORK_US=" + envOr("BOUND_WORK_US", "30")}
	if window != "" {
		env = append(env, "BOUND_WINDOW="+window)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd, pipe, stderr := startPiped(t, ctx, binPath, []string{"run", "--timeout", "150s", script}, env)
	pid := cmd.Process.Pid

	var res boundResult
	var maxRSS atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // RSS every 50 ms
		defer wg.Done()
		for {
			if rss := readRSS(pid); rss > maxRSS.Load() {
				maxRSS.Store(rss)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	var stdout strings.Builder
	var published, received bool
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		stdout.WriteString(line + "\n")
		switch {
		case line == "@@ready":
			res.baseRSS = readRSS(pid)
			maxRSS.Store(res.baseRSS)
			wg.Add(2)
			go func() {
				defer wg.Done()
				boundPublish(t, queue, n)
				published = true
			}()
			go func() { // the broker's unacked count, every second
				defer wg.Done()
				for {
					if n := unackedOf(queue); n > res.maxUnacked {
						res.maxUnacked = n
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
				}
			}()
		case strings.HasPrefix(line, "@@received "+strconv.Itoa(n)+" in order"):
			received = true
		}
	}
	err = cmd.Wait()
	close(stop)
	wg.Wait()
	res.maxRSS = maxRSS.Load()
	if err != nil || !received || !published {
		t.Fatalf("run failed: %v (received all: %v, published all: %v)\nstdout:\n%s\nstderr:\n%s", err, received, published, stdout.String(), stderr.String())
	}
	t.Logf("%s, window %q: %s; RSS baseline %d MiB, peak %d MiB (+%d MiB); broker's unacked peak %d",
		style, window, lastLine(stdout.String()), res.baseRSS>>20, res.maxRSS>>20, res.growth()>>20, res.maxUnacked)
	return res
}

// boundPublish publishes n messages whose first 4 bytes are their sequence
// number, as fast as the broker takes them.
func boundPublish(t *testing.T, queue string, n int) {
	c := dialSync(t, amqpConfig(t, aioamqpURL()))
	defer c.Close()
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for i := 0; i < n; i++ {
		body := make([]byte, boundSize)
		binary.BigEndian.PutUint32(body, uint32(i))
		wg.Add(1)
		c.ch.Publish(context.Background(), &amqp.Publishing{RoutingKey: queue, Body: body}, false, func(err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
			wg.Done()
		})
		if i%1000 == 999 {
			wg.Wait() // keep the executor's queue short
		}
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		t.Errorf("publishing: %v", *e)
	}
}

// readRSS returns the resident set size of pid in bytes (0 once it ended).
func readRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// unackedOf asks the shared broker (read-only) how many messages of queue
// are delivered and not acknowledged.
func unackedOf(queue string) int {
	out, err := exec.Command("rabbitmqctl", "-q", "list_queues", "name", "messages_unacknowledged").CombinedOutput()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 2 && f[0] == queue {
			n, _ := strconv.Atoi(strings.TrimSpace(f[1]))
			return n
		}
	}
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
