// reconnect.js — surviving a lost connection (a broker restart, a network
// cut): the recipe, since aioamqp (and amqpjs) do not reconnect by
// themselves. A session connects, declares its topology, consumes, and
// publishes numbered jobs with publisher confirms; when the connection ends,
// on_error says why, wait_closed() ends the session, and the loop connects
// again with exponential backoff and resumes from the first job not yet
// confirmed. The queue is durable and the messages persistent, so confirmed
// jobs survive a broker restart; the consumer drops duplicates by
// message_id (a message delivered but not acked before the loss comes back).
//
//   amqpjs run scripts/reconnect.js
//       demo: drops its own connection (transport.close()) after half the
//       jobs, to show the recovery path against a healthy broker. On an
//       open connection transport.close() is an abrupt loss, as when the
//       network fails: on_error is called and the next publish rejects
//   amqpjs run scripts/reconnect.js -- --no-simulate --jobs 200 --interval 50
//       no simulated loss: restart RabbitMQ meanwhile (rabbitmqctl stop_app;
//       rabbitmqctl start_app) and watch it carry on
//
// Options: --jobs N (20), --interval MS between publishes (0), --queue NAME,
// --no-simulate, --max-attempts N connection attempts in a row (30).
const aioamqp = require('aioamqp');
const { setTimeout: sleep } = require('timers/promises');

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};
const jobs = Number(opt('jobs', 20));
const interval = Number(opt('interval', 0));
const queue = opt('queue', 'amqpjs.example.reconnect');
const maxAttempts = Number(opt('max-attempts', 30));
const simulateAt = argv.includes('--no-simulate') ? 0 : Math.floor(jobs / 2) + 1;

let next = 1; // the first job not yet confirmed
const seen = new Set(); // jobs consumed, by message_id
let allDone;
const finished = new Promise((r) => { allDone = r; });
let simulated = false;

// One session: from connect to the end of the connection. Returns true once
// every job is done.
async function session(n, transport, protocol) {
  const channel = await protocol.channel();
  await channel.queue_declare(queue, { durable: true });
  await channel.confirm_select();
  await channel.basic_qos({ prefetch_count: 10 });
  await channel.basic_consume(async (body, envelope, properties, ch) => {
    seen.add(properties.message_id);
    try {
      await ch.basic_client_ack(envelope.delivery_tag);
    } catch (e) {
      // The connection is gone: the broker will deliver the message again.
    }
    if (seen.size === jobs) allDone();
  }, { queue_name: queue });
  const first = next;
  while (next <= jobs) {
    if (next === simulateAt && !simulated) {
      simulated = true;
      if (next > first) console.log(`session ${n}: published jobs ${first}-${next - 1}`);
      console.log('simulating a lost connection (transport.close())');
      transport.close(); // the publish below rejects, as on a real loss
    }
    await channel.publish(`job ${next}`, '', queue, { properties: { message_id: String(next), delivery_mode: 2 } });
    if (next % 10 === 0 && simulateAt === 0) console.log(`job ${next} confirmed`);
    next++;
    if (interval) await sleep(interval);
  }
  if (next > first) console.log(`session ${n}: published jobs ${first}-${next - 1}`);
  await Promise.race([finished, protocol.wait_closed()]);
  if (seen.size < jobs) return false; // lost while the last jobs were consumed
  await channel.queue_delete(queue);
  await protocol.close();
  return true;
}

let attempts = 0;
let backoff = 100;
for (let n = 1; ;) {
  let transport, protocol, lost = null;
  try {
    [transport, protocol] = await aioamqp.connect({
      client_properties: { connection_name: `reconnect.js ${queue}` },
      on_error: (e) => { lost = e; },
    });
  } catch (e) {
    if (!(e instanceof aioamqp.AmqpClosedConnection) || ++attempts >= maxAttempts) throw e;
    console.error(`connect failed (${e.message}); retrying in ${backoff} ms`);
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 5000);
    continue;
  }
  attempts = 0;
  backoff = 100;
  console.log(`session ${n}: connected${next > 1 ? `, resuming at job ${next}` : ''}`);
  try {
    if (await session(n, transport, protocol)) break;
  } catch (e) {
    // A call failed because the connection ended; anything else is a bug.
    if (!(e instanceof aioamqp.AmqpClosedConnection || e instanceof aioamqp.ChannelClosed)) throw e;
  }
  await protocol.wait_closed();
  console.log(`session ${n}: connection lost (${lost ? `${lost.message}, code ${lost.code}` : 'closed by the script'}); reconnecting`);
  n++;
}
console.log(`done: ${jobs} jobs published and consumed, none lost`);
