// expect-exit: 1
// expect-stderr: e2e-on-error-rejected-7c1
// expect-stderr: connection lost: the client closed the socket
// An async on_error whose promise rejects, after transport.close(), is an
// uncaught error like any callback's (docs/api.md §1, §7): exit 1, the error on stderr.
const aioamqp = require('aioamqp');

const [transport, protocol] = await aioamqp.connect({
  on_error: async (e) => {
    await null;
    throw new Error(`e2e-on-error-rejected-7c1 (${e.message})`);
  },
});
await protocol.channel();
transport.close();
await protocol.wait_closed();
await new Promise(() => {}); // the rejection ends the run, not this
