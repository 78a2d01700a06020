//go:build integration

package tests

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWasmScripts runs scripts/hello.js, topology.js and confirms.js, and
// the load and test scenarios load-publish.js, load-pubsub.js,
// load-burst.js and test-rpc.js (with their VUs, as `amqpjs run` runs
// them), on the WebAssembly build (node wasm/host/bin.mjs) against
// RabbitMQ, and compares their stdout, normalised as TestScripts does, with
// the native run's golden files in testdata/scripts/; a scenario's stderr
// must hold its end-of-test summary (checkScriptRun). The build is wasm/host/dist/amqpjs.wasm, made
// by wasm/build.sh; without it (or without node) the test is skipped, unless
// AMQPJS_WASM_REQUIRED is set (tests/run.sh sets it after building). The
// host's npm dependencies (esbuild) are installed with npm ci when missing.
func TestWasmScripts(t *testing.T) {
	required := os.Getenv("AMQPJS_WASM_REQUIRED") != ""
	skip := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format+" (AMQPJS_WASM_REQUIRED is set)", args...)
		}
		t.Skipf(format, args...)
	}
	wasm := filepath.Join(repoRoot, "wasm", "host", "dist", "amqpjs.wasm")
	if _, err := os.Stat(wasm); err != nil {
		skip("no WebAssembly build (%v): run wasm/build.sh", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node not found: %v", err)
	}
	// The host compiles the scripts with its esbuild npm package: install
	// the host's dependencies when they are missing (a clean clone).
	hostDir := filepath.Join(repoRoot, "wasm", "host")
	if _, err := os.Stat(filepath.Join(hostDir, "node_modules", "esbuild", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			skip("wasm/host/node_modules/esbuild is missing and npm is not found: %v", err)
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = hostDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in wasm/host: %v\n%s", err, out)
		}
	}
	host := filepath.Join(hostDir, "bin.mjs")
	for _, name := range []string{"hello", "topology", "confirms", "load-publish", "load-pubsub", "load-burst", "test-rpc"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			script := filepath.Join(repoRoot, "scripts", name+".js")
			cmd := exec.CommandContext(ctx, node, host, "--timeout", "2m", script)
			cmd.Dir = repoRoot
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "AMQPJS_VERBOSE=") && !strings.HasPrefix(kv, "AMQP_URL=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, "AMQP_URL="+aioamqpURL())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			t.Logf("%s.js on wasm: %v in %s", name, err, time.Since(start).Round(time.Millisecond))
			exit := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("node %s scripts/%s.js: %v\n--- stdout:\n%s\n--- stderr:\n%s", filepath.Base(host), name, err, stdout.String(), stderr.String())
			}
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			checkScriptRun(t, name, scenarioSource.Match(src), exit, stderr.String())
			want, err := os.ReadFile(filepath.Join("testdata", "scripts", name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if got := normaliseScriptOutput(stdout.String()); got != string(want) {
				t.Errorf("stdout of scripts/%s.js on wasm differs from testdata/scripts/%s.golden (- want, + got; normalised):\n%s\n--- stderr:\n%s",
					name, name, lineDiff(string(want), got), stderr.String())
			}
		})
	}
}
