// expect-exit: 1
// args: --timeout 2s
// expect-stderr: timed out
// expect-stdout: connected, not closing
// An open connection keeps the process alive (docs/api.md §1): the run only ends
// because of --timeout, which exits 1 with a message saying so.
import { connect } from 'aioamqp';

const [, protocol] = await connect();
await protocol.channel();
console.log('connected, not closing');
