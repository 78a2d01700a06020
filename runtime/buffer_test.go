package runtime

import "testing"

// Buffer methods that goja_nodejs lacks behave as in Node.
func TestBufferExtras(t *testing.T) {
	t.Parallel()
	r := runScript(t, `
const assert = require('assert');
assert.strictEqual(Buffer.byteLength('héllo'), 6);
assert.strictEqual(Buffer.byteLength(new ArrayBuffer(3)), 3);
assert.strictEqual(Buffer.compare(Buffer.from('a'), Buffer.from('b')), -1);
assert.strictEqual(Buffer.compare(Buffer.from('ab'), Buffer.from('a')), 1);
assert.strictEqual(Buffer.from('b').compare(Buffer.from('b')), 0);
const t = Buffer.alloc(5);
assert.strictEqual(Buffer.from('xyz').copy(t, 1), 3);
assert.strictEqual(t.toString('hex'), '0078797a00');
assert.strictEqual(Buffer.from('xyz').copy(t, 4), 1);
assert.ok(Buffer.isBuffer(Buffer.from('x')));
assert.ok(!Buffer.isBuffer(new Uint8Array(1)));
assert.throws(() => Buffer.byteLength(5), TypeError);
console.log('ok');
`)
	if r.err != nil || r.stdout != "ok\n" {
		t.Fatalf("got stdout %q, err %v, stderr %q; want ok", r.stdout, r.err, r.stderr)
	}
}
