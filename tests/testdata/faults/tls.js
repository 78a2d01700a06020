// TLS verification is on by default: through a TLS proxy whose certificate
// is signed by a CA the system does not know (TLS_PORT, TLS_CA), ssl: true
// alone fails with a message saying the certificate could not be verified;
// ssl: { ca_file } works; verify_ssl: false works; a name the certificate
// does not hold fails too. Login and password come from AMQP_URL.
const { aioamqp, assert } = require('./lib.js');

const port = Number(process.env.TLS_PORT);
const ca = process.env.TLS_CA;
const unverified = (what) => (e) => {
  assert.ok(e instanceof aioamqp.AmqpClosedConnection, `${what}: got ${e && e.name}: ${e && e.message}`);
  assert.strictEqual(e.code, 0);
  assert.ok(/TLS handshake failed: the server's certificate could not be verified/.test(e.message), `${what}: ${e.message}`);
  assert.ok(/ca_file|server_name/.test(e.message), `${what}: the message says how to fix it: ${e.message}`);
  console.log(`${what}: ${e.message}`);
  return true;
};

// 1. ssl: true, no ca_file: the system's roots do not know the test CA.
await assert.rejects(aioamqp.connect({ host: '127.0.0.1', port, ssl: true }), unverified('ssl: true'));
await assert.rejects(aioamqp.connect({ host: 'localhost', port, ssl: {} }), unverified('ssl: {}'));
// An amqps:// URL is the same.
const url = new URL(process.env.AMQP_URL);
url.protocol = 'amqps:';
url.port = String(port);
await assert.rejects(aioamqp.from_url(url.toString()), unverified('amqps:// URL'));
// The CA, but a name the certificate does not hold.
await assert.rejects(aioamqp.connect({ host: '127.0.0.1', port, ssl: { ca_file: ca, server_name: 'rabbit.example' } }),
  (e) => unverified('server_name rabbit.example')(e) && /not rabbit\.example/.test(e.message));
// A CA file that is not there.
await assert.rejects(aioamqp.connect({ host: '127.0.0.1', port, ssl: { ca_file: `${ca}.missing` } }), (e) => {
  assert.ok(e instanceof aioamqp.AmqpClosedConnection && /reading CA file/.test(e.message), e.message);
  return true;
});

// 2. With the CA: a working connection.
async function roundTrip(what, options) {
  const [transport, protocol] = await aioamqp.connect({ host: '127.0.0.1', port, ...options });
  const channel = await protocol.channel();
  const { queue } = await channel.queue_declare('', { exclusive: true });
  await channel.publish(`over TLS (${what})`, '', queue);
  const m = await channel.basic_get(queue, { no_ack: true });
  assert.strictEqual(m.message.toString(), `over TLS (${what})`);
  await protocol.close();
  transport.close();
  console.log(`${what}: connected, round trip ok`);
}
await roundTrip('ssl: { ca_file }', { ssl: { ca_file: ca } });
await roundTrip('ssl: { ca_file, server_name: localhost }', { ssl: { ca_file: ca, server_name: 'localhost' } });
// 3. verify_ssl: false skips the check.
await roundTrip('ssl: true, verify_ssl: false', { ssl: true, verify_ssl: false });
