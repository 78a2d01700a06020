//go:build integration

package tests

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// internalLine is the one line a Go panic prints (docs/api.md §1, exit 70).
var internalLine = regexp.MustCompile(`^amqpjs: (?:VU \d+: )?internal error \(a defect of amqpjs, please report it\): panic in (\S+): (.*); Go stack in (\S+)$`)

// checkInternalError checks the internal-error line among stderr's lines
// and the stack file it names; it returns the line.
func checkInternalError(t *testing.T, res Result, dir string) string {
	t.Helper()
	if res.Code != 70 {
		t.Fatalf("exit code %d, want 70\n%s", res.Code, res)
	}
	if m := panicText.FindString(res.Stderr); m != "" {
		t.Fatalf("%q in the output: a goroutine dump reached the user\n%s", m, res)
	}
	var line string
	for _, l := range strings.Split(strings.TrimSpace(res.Stderr), "\n") {
		if strings.Contains(l, "internal error") {
			if line != "" {
				t.Fatalf("more than one internal-error line\n%s", res)
			}
			line = l
		}
	}
	m := internalLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no internal-error line of the documented form\n%s", res)
	}
	if !strings.HasPrefix(m[3], dir) {
		t.Errorf("stack file %s is not in $TMPDIR (%s)", m[3], dir)
	}
	b, err := os.ReadFile(m[3])
	if err != nil {
		t.Fatalf("the stack file the message names: %v", err)
	}
	if !strings.Contains(string(b), "goroutine ") || !strings.Contains(string(b), "injected test panic") {
		t.Errorf("the stack file holds no Go stack of the panic:\n%s", b)
	}
	return line
}

// TestInternalErrorScript: a Go panic in a binding (publish, injected by
// the test-hooks build) ends a plain script with exit 70 and one line on
// stderr, the stack in a file, connections closed, no goroutine left.
func TestInternalErrorScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := WriteScript(t, "panic.js", `
const aioamqp = require('aioamqp');
const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });
console.log('declared');
try { await ch.publish('x', '', queue); } catch (e) { console.log('caught', e); }
console.log('not reached');
`)
	res := Run(t, Opts{Bin: hookBinary(t, false), Args: []string{"run", path},
		Env: []string{"AMQPJS_TEST_PANIC=publish", "AMQPJS_TEST_LEAKS=1", "TMPDIR=" + dir}})
	line := checkInternalError(t, res, dir)
	if got := strings.TrimSpace(res.Stderr); got != line {
		t.Errorf("stderr has more than the one line:\n%s", res.Stderr)
	}
	if res.Stdout != "declared\n" {
		t.Errorf("stdout: got %q; the script must not go on (nor catch a Go panic)", res.Stdout)
	}
}

// TestInternalErrorScenario: a Go panic while a VU's consumer hands over a
// delivery ends the whole run: the summary of what was measured, then the
// one line, exit 70, no goroutine left.
func TestInternalErrorScenario(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := WriteScript(t, "panic-scenario.js", `
import * as aioamqp from 'aioamqp';
export const options = { vus: 2, duration: '20s' };
export async function setup() {
  const [, p] = await aioamqp.connect(); const ch = await p.channel();
  const q = (await ch.queue_declare('', { arguments: { 'x-expires': 60000 } })).queue;
  await p.close();
  return { q };
}
let ch = null;
export default async function (data) {
  if (!ch) {
    const [, p] = await aioamqp.connect(); ch = await p.channel();
    if (__VU === 1) await ch.basic_consume(async (b, env) => { await ch.basic_client_ack(env.delivery_tag); }, { queue_name: data.q });
  }
  await ch.publish('x'.repeat(100), '', data.q);
}
export async function teardown(data) {
  const [, p] = await aioamqp.connect(); const c = await p.channel();
  await c.queue_delete(data.q); await p.close();
  console.log('teardown ran');
}
`)
	res := Run(t, Opts{Bin: hookBinary(t, false), Args: []string{"run", "--quiet", path},
		Env: []string{"AMQPJS_TEST_PANIC=deliver", "AMQPJS_TEST_LEAKS=1", "TMPDIR=" + dir}})
	line := checkInternalError(t, res, dir)
	if !strings.HasPrefix(line, "amqpjs: VU 1: ") {
		t.Errorf("the line does not name the VU: %q", line)
	}
	if !strings.Contains(res.Stderr, "METRIC") || !strings.Contains(res.Stderr, "amqp_published") {
		t.Errorf("no summary\n%s", res)
	}
	if lines := strings.Split(strings.TrimSpace(res.Stderr), "\n"); lines[len(lines)-1] != line {
		t.Errorf("the internal error is not the last line\n%s", res.Stderr)
	}
	if !strings.Contains(res.Stdout, "teardown ran") {
		t.Errorf("teardown did not run\n%s", res)
	}
}
