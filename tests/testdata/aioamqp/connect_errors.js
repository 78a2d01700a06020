// Failing to connect rejects AmqpClosedConnection saying why; the password is never printed.
// expect-no-output: Pw-e2e-s3cr3t-77
const assert = require('assert');
const util = require('util');
const aioamqp = require('aioamqp');

const secret = 'Pw-e2e-s3cr3t-77';
let onErrorCalls = 0;
const on_error = () => { onErrorCalls++; };

// Print everything an error shows, so that the runner can check that the
// password never appears in it.
function show(label, e) {
  console.log(label, String(e));
  console.log(util.inspect(e));
  console.log(e.stack);
  console.error(e);
}

async function connectFails(label, promise, check) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${label}: connect did not fail`);
  show(label, err);
  assert.ok(err instanceof aioamqp.AmqpClosedConnection, `${label}: got ${err.name}: ${err.message}`);
  assert.ok(err instanceof aioamqp.AioamqpException);
  assert.ok(err instanceof Error);
  assert.strictEqual(err.name, 'AmqpClosedConnection');
  assert.ok(!err.message.includes(secret), err.message);
  if (check) check(err);
}

// The broker delays its answer to bad credentials by seconds: run the
// failing connects concurrently.
const failures = [];
// Bad credentials: the message names authentication.
failures.push(connectFails('bad password', aioamqp.connect({ host: '127.0.0.1', login: 'guest', password: secret, on_error }), (e) => {
  assert.ok(/auth|login|credential|ACCESS_REFUSED/i.test(e.message), e.message);
}));
failures.push(connectFails('unknown user', aioamqp.connect('127.0.0.1', 5672, 'no-such-user-e2e', secret, '/'), (e) => {
  assert.ok(/auth|login|credential|ACCESS_REFUSED/i.test(e.message), e.message);
}));
failures.push(connectFails('bad password by URL', aioamqp.from_url(`amqp://guest:${secret}@127.0.0.1:5672/`), (e) => {
  assert.ok(/auth|login|credential|ACCESS_REFUSED/i.test(e.message), e.message);
}));

// Unknown vhost: the message names the vhost (and does not suggest that the
// broker is down: it answered).
const vhost = `no-such-vhost-${Math.random().toString(16).slice(2, 8)}`;
failures.push(connectFails('unknown vhost', aioamqp.connect({ host: '127.0.0.1', virtualhost: vhost, on_error }), (e) => {
  assert.ok(e.message.includes(vhost), e.message);
  assert.ok(!/is RabbitMQ running/.test(e.message), `misleading hint for a broker that answered: ${e.message}`);
}));
failures.push(connectFails('unknown vhost by URL', aioamqp.from_url(`amqp://guest:guest@127.0.0.1/${vhost}`), (e) => {
  assert.ok(e.message.includes(vhost), e.message);
}));

// Connection refused.
failures.push(connectFails('refused', aioamqp.connect({ host: '127.0.0.1', port: 1, password: secret, on_error }), (e) => {
  assert.ok(/refused/i.test(e.message), e.message);
}));

const failed = (await Promise.allSettled(failures)).filter((r) => r.status === 'rejected');
if (failed.length) throw failed[0].reason; // after every case has run

// on_error is not called when connecting fails.
await new Promise((r) => setTimeout(r, 50));
assert.strictEqual(onErrorCalls, 0);

// A working connection afterwards.
const [, protocol] = await aioamqp.connect();
assert.strictEqual(protocol.state, aioamqp.OPEN);
await protocol.close();
console.log('connect errors ok');
