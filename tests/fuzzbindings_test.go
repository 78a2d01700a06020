//go:build integration

// TestFuzzBindings calls every binding of the aioamqp module 10 000 times
// with random argument shapes (testdata/fuzz/bindings.js says what is
// called and what is required): each call must return or resolve, or throw
// or reject a TypeError, a RangeError or an AioamqpException — never a Go
// panic, a GoError or a hang. The bindings are split over two processes
// (two cores), each with one JS runtime, on a vhost of the test's own on
// the shared broker, deleted afterwards, so that random queue and exchange
// names touch nobody else's. connect()'s defaults point at a port that
// refuses, so that random connect options fail fast.
//
// The non-race binary is used even under -race: the point is the argument
// handling, and the race build would take minutes.
//
//	go test -tags integration -run TestFuzzBindings ./tests/ -count=1 -v
//	AMQPJS_FUZZ_N=1000 AMQPJS_FUZZ_SEED=7 go test ...   # fewer calls, another seed
package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFuzzBindings(t *testing.T) {
	n := envOr("AMQPJS_FUZZ_N", "10000")
	seed := envOr("AMQPJS_FUZZ_SEED", strconv.FormatInt(time.Now().UnixNano()%1000000, 10))
	t.Logf("AMQPJS_FUZZ_N=%s AMQPJS_FUZZ_SEED=%s", n, seed)
	script, err := filepath.Abs(filepath.Join("testdata", "fuzz", "bindings.js"))
	if err != nil {
		t.Fatal(err)
	}

	vhost := fmt.Sprintf("amqpjs-fuzz-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	rabbitmqctlT(t, "add_vhost", vhost)
	t.Cleanup(func() {
		if out, err := exec.Command("rabbitmqctl", "-q", "delete_vhost", vhost).CombinedOutput(); err != nil {
			t.Errorf("delete_vhost %s: %v\n%s", vhost, err, out)
		}
	})
	user := "guest"
	if u := amqpConfig(t, aioamqpURL()); u.Login != "" {
		user = u.Login
	}
	rabbitmqctlT(t, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")
	fuzzURL := strings.TrimSuffix(aioamqpURL(), "/") + "/" + vhost
	refused := "amqp://guest:guest@127.0.0.1:" + strconv.Itoa(freePort(t)) + "/"

	const shards = 2
	var wg sync.WaitGroup
	results := make([]string, shards)
	start := time.Now()
	for i := 0; i < shards; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, binPath, "run", "--timeout", "270s", script)
			cmd.Env = append(os.Environ(), "FUZZ_URL="+fuzzURL, "AMQP_URL="+refused, "FUZZ_N="+n, "FUZZ_SEED="+seed,
				fmt.Sprintf("FUZZ_SHARD=%d/%d", i, shards))
			cmd.WaitDelay = 5 * time.Second
			out, err := cmd.CombinedOutput()
			s := string(out)
			results[i] = s
			dump := fmt.Sprintf("\n--- output of shard %d/%d (seed %s):\n%s", i, shards, seed, s)
			switch {
			case strings.Contains(s, "timed out after 270s"):
				t.Errorf("shard %d hung until its --timeout%s", i, dump)
			case strings.Contains(s, "panic:") || strings.Contains(s, "goroutine "):
				t.Errorf("shard %d: a Go panic%s", i, dump)
			case err != nil:
				t.Errorf("shard %d: %v%s", i, err, dump)
			case !regexp.MustCompile(`@@result shard \d+/\d+: .* 0 failures`).MatchString(s):
				t.Errorf("shard %d: no clean result line%s", i, dump)
			}
		}(i)
	}
	wg.Wait()
	bindings := 0
	for _, s := range results {
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "@@result") {
				t.Log(line)
			}
			if strings.Contains(line, " calls in ") {
				bindings++
			}
			if strings.HasPrefix(line, "note: ") {
				t.Log(line)
			}
		}
	}
	if bindings < 59 {
		t.Errorf("%d bindings reported, want 59 (every export, protocol, transport, channel, iterator and message method)", bindings)
	}
	t.Logf("%d bindings × %s calls in %s", bindings, n, time.Since(start).Round(time.Millisecond))
	if testing.Verbose() {
		for i, s := range results {
			t.Logf("shard %d:\n%s", i, s)
		}
	}
}

// rabbitmqctlT runs rabbitmqctl against the shared broker.
func rabbitmqctlT(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", append([]string{"-q"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
