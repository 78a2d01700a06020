// --management-url wins over the API derived from the AMQP URL: its
// credentials are the ones used (here wrong, so 401), and never printed.
// args: --management-url http://guest:not-the-password@127.0.0.1:15672/
// expect-no-output: not-the-password
const assert = require('assert');
const rabbitmq = require('amqpjs/rabbitmq');
await assert.rejects(rabbitmq.overview(), (e) => {
  assert.strictEqual(e.status, 401);
  assert.strictEqual(e.url, 'http://127.0.0.1:15672/api/overview');
  return true;
});
console.log('management url ok');
