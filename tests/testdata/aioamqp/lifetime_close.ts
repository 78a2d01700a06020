// args: --timeout 60s
// expect-stdout: closed, ending by itself
// A script that closes its connection ends by itself (exit 0), even with a
// consumer, a channel and an un-awaited wait_closed() left behind.
import * as aioamqp from 'aioamqp';
import { connect } from 'aioamqp';
const assert = require('assert');

type Pair = [{ close(): void; local_address: string }, any];
const [transport, protocol]: Pair = await connect();
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });
await ch.basic_consume((body: Buffer): void => {}, { queue_name: queue });
const closed: Promise<null> = protocol.wait_closed();
await protocol.close();
assert.strictEqual(protocol.state, aioamqp.CLOSED);
closed.then((): void => console.log('closed, ending by itself'));
