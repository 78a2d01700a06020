// amqpjs/rabbitmq's errors: ManagementError with the HTTP status (404 for
// a missing queue, 401 for bad credentials, 0 with how to enable the
// plugin when nothing answers), pointing at the script's call; TypeErrors
// naming the parameter for bad arguments.
// expect-no-output: wrong-password
const assert = require('assert');
const rabbitmq = require('amqpjs/rabbitmq');
const { ManagementError } = rabbitmq;

await assert.rejects(rabbitmq.queue('amqpjs-e2e-no-such-queue'), (e) => {
  assert.ok(e instanceof ManagementError && e instanceof Error, String(e));
  assert.strictEqual(e.name, 'ManagementError');
  assert.strictEqual(e.status, 404);
  assert.strictEqual(e.method, 'GET');
  assert.match(e.url, /^http:\/\/[^@]+:15672\/api\/queues\/%2F\/amqpjs-e2e-no-such-queue$/);
  assert.strictEqual(e.message, `queue 'amqpjs-e2e-no-such-queue' in vhost '/' not found (HTTP 404 from GET ${e.url})`);
  assert.match(e.stack, /rabbitmq_errors\.js:10:/); // the call's line
  return true;
});
await assert.rejects(rabbitmq.queue('x', { vhost: 'amqpjs-e2e-no-such-vhost' }), { status: 404 });

// Bad credentials.
rabbitmq.configure({ password: 'wrong-password' });
await assert.rejects(rabbitmq.overview(), (e) => {
  assert.ok(e instanceof ManagementError);
  assert.strictEqual(e.status, 401);
  assert.match(e.message, /HTTP 401 Unauthorized: Login failed/);
  assert.match(e.message, /check the user and password/);
  assert.ok(!e.message.includes('wrong-password'));
  return true;
});

// Nothing listening: status 0, and how to enable the plugin.
rabbitmq.configure({ url: 'http://127.0.0.1:1', password: 'guest' });
await assert.rejects(rabbitmq.queues(), (e) => {
  assert.ok(e instanceof ManagementError);
  assert.strictEqual(e.status, 0);
  assert.match(e.message, /cannot reach the RabbitMQ management API at http:\/\/127\.0\.0\.1:1\/api\/queues/);
  assert.match(e.message, /connection refused/);
  assert.match(e.message, /rabbitmq-plugins enable rabbitmq_management/);
  return true;
});

// Back to the API derived from the AMQP URL.
rabbitmq.configure({ url: '' });
assert.strictEqual(typeof (await rabbitmq.overview()).rabbitmq_version, 'string');

// Bad arguments throw at once.
assert.throws(() => rabbitmq.queue(), { name: 'TypeError', message: "rabbitmq.queue: missing required parameter 'name'" });
assert.throws(() => rabbitmq.queue(5), { name: 'TypeError', message: "rabbitmq.queue: parameter 'name' must be a string, got a number (5)" });
assert.throws(() => rabbitmq.queue('q', { vhost: 1 }), { name: 'TypeError', message: /parameter 'vhost' must be a string/ });
assert.throws(() => rabbitmq.queue('q', { vhots: '/' }), { name: 'TypeError', message: /rabbitmq.queue: unknown option 'vhots'/ });
assert.throws(() => rabbitmq.closeConnection(), { name: 'TypeError', message: "rabbitmq.closeConnection: missing required parameter 'name'" });
assert.throws(() => rabbitmq.closeConnection('c', 7), { name: 'TypeError', message: /parameter 'reason' must be a string/ });
assert.throws(() => rabbitmq.configure({ url: 'ftp://host' }), { name: 'TypeError', message: /rabbitmq.configure: parameter 'url'.*http or https/ });
assert.throws(() => rabbitmq.overview({ timeout: -1 }), { name: 'RangeError' });
console.log('rabbitmq errors ok');
