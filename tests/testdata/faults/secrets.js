// Puts the password (from AMQP_URL) where output happens: a failed login's
// error (uncaught at the end: printed by the runtime), a bad URL given to
// from_url, the connection objects printed with console.log and util.inspect.
// The test searches all of it for the password.
const { aioamqp, assert } = require('./lib.js');
const util = require('util');

const url = new URL(process.env.AMQP_URL);
const password = decodeURIComponent(url.password);

// A working connection, printed.
const [transport, protocol] = await aioamqp.connect();
console.log(transport, protocol);
console.log(util.inspect(protocol, { depth: 5, showHidden: true }));
const channel = await protocol.channel();
console.log(channel);
await protocol.close();

// Bad URLs carrying the password.
for (const bad of [`amqp://u:${password}@127.0.0.1:99999/`, `http://u:${password}@h/`, `amqp://u:${password}@h/a?heartbeat=x`]) {
  try {
    await aioamqp.from_url(bad);
    assert.fail(`from_url(${bad}) worked`);
  } catch (e) {
    console.log(`from_url: ${e.name}: ${e.message}`);
    console.error(e);
  }
}
// A wrong password: the broker refuses.
try {
  await aioamqp.connect({ password: `${password}-wrong` });
  assert.fail('a wrong password was accepted');
} catch (e) {
  console.log(`wrong password: ${e.name}: ${e.message}`);
  console.error(e);
}
// The login refused again, uncaught: the runtime prints it and exits 1.
await aioamqp.connect({ password: `${password}-wrong` });
