// Heartbeats: with heartbeat 1 an idle connection stays open for several
// intervals (the client sends heartbeats; the broker would close it after
// missing two); on_error is not called. Also: calls with a timeout that the
// broker answers in time resolve normally.
const assert = require('assert');
const aioamqp = require('aioamqp');
const { setTimeout: sleep } = require('timers/promises');

const errors = [];
const [, protocol] = await aioamqp.connect({ heartbeat: 1, on_error: (e) => errors.push(e) });
assert.strictEqual(protocol.server_heartbeat, 1);
const ch = await protocol.channel();
await sleep(3500); // idle: no frame but heartbeats for 3.5 intervals
assert.deepStrictEqual(errors.map(String), []);
assert.strictEqual(protocol.state, aioamqp.OPEN);
const { queue } = await ch.queue_declare('', { exclusive: true, timeout: 10 });
assert.ok(queue.startsWith('amq.gen-'));
assert.strictEqual(await ch.basic_qos(0, 10, true, { timeout: 10 }), true); // connection_global
assert.strictEqual(await ch.basic_qos({ prefetch_count: 5, connection_global: false, timeout: 10 }), true);
assert.strictEqual(await ch.publish('x', '', queue, { timeout: 10 }), null);
assert.deepStrictEqual(await ch.flow(true, { timeout: 10 }), { active: true });
const c2 = await protocol.channel({ timeout: 10 });
assert.strictEqual(await c2.close({ timeout: 10 }), true);
assert.strictEqual(await protocol.close({ timeout: 10 }), null);
assert.deepStrictEqual(errors, []);
console.log('heartbeat ok');
