package scenario

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

func TestMetricsModule(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.js")
	src := `
const assert = require('assert');
const { Counter, Gauge, Rate, Trend, check } = require('amqpjs/metrics');
const c = new Counter('my_count');
c.add(2); c.add(3, { queue: 'a', n: 1 });
assert.strictEqual(c.name, 'my_count');
assert.strictEqual(c.type, 'counter');
assert.ok(c instanceof Counter);
const g = new Gauge('my_gauge'); g.add(7); g.add(4);
const r = new Rate('my_rate'); r.add(true); r.add(false); r.add(1); r.add(0);
const t = new Trend('my_trend', true); t.add(1.5); t.add(2.5, { op: 'x' });
assert.strictEqual(new Counter('my_count').name, 'my_count'); // the same metric again
assert.throws(() => new Trend('my_count'), /TypeError: Trend: metric "my_count" is a counter/);
assert.throws(() => new Counter('bad name'), /invalid metric name/);
assert.throws(() => new Counter(1), /parameter 'name' must be a string/);
assert.throws(() => c.add('x'), /parameter 'value' must be a number/);
assert.throws(() => c.add(true), /must be a number/);
assert.throws(() => c.add(1, 'tags'), /parameter 'tags' must be an object/);
assert.throws(() => c.add(1, { t: {} }), /tag 't' must be a string/);
assert.strictEqual(check(5, { 'is 5': (v) => v === 5, 'positive': (v) => v > 0 }), true);
assert.strictEqual(check(5, { 'is 6': (v) => v === 6, 'constant true': true }, { group: 'g' }), false);
assert.throws(() => check(1), /parameter 'checks' must be an object/);
assert.throws(() => check(1, { 'throws': () => { throw new RangeError('inside'); } }), RangeError);
assert.strictEqual(__VU, 0);
assert.strictEqual(__ENV, process.env);
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	rt := runtime.New(runtime.Options{})
	RegisterModule(rt, reg)
	if _, err := rt.RunFile(context.Background(), path); err != nil {
		t.Fatal(rt.FormatError(err))
	}
	st := func(name string, tags map[string]string) metrics.Stats {
		return reg.Get(name).Series(metrics.NewTags(tags)).Stats()
	}
	if s := st("my_count", nil); s.Sum != 5 {
		t.Errorf("my_count %+v", s)
	}
	if s := st("my_count", map[string]string{"queue": "a", "n": "1"}); s.Sum != 3 {
		t.Errorf("my_count{n:1,queue:a} %+v", s)
	}
	if s := st("my_gauge", nil); s.Value != 4 || s.Max != 7 {
		t.Errorf("my_gauge %+v", s)
	}
	if s := st("my_rate", nil); s.Count != 4 || s.RateValue() != 0.5 {
		t.Errorf("my_rate %+v", s)
	}
	if m := reg.Get("my_trend"); m.Type != metrics.Time || m.Root().Stats().Count != 2 {
		t.Errorf("my_trend %+v", m.Root().Stats())
	}
	if s := st("checks", nil); s.Count != 4 || s.NonZero != 3 {
		t.Errorf("checks %+v", s)
	}
	if s := st("checks", map[string]string{"check": "is 6", "group": "g"}); s.Count != 1 || s.NonZero != 0 {
		t.Errorf("checks{check:is 6,group:g} %+v", s)
	}
}
