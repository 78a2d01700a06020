// A script stuck in a loop inside a consumer callback, with a connection
// open: --timeout and Ctrl-C must still end the run (and close the
// connection on the way out).
const { connect } = require('./lib.js');

const c = await connect(process.env.FAULT_NAME);
const ch = await c.protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });
await ch.basic_consume(() => {
  console.log('@@spinning');
  for (;;) { /* stuck */ }
}, { queue_name: queue, no_ack: true });
await ch.publish('go', '', queue);
