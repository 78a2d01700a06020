// expect-stdout: exiting with the connection open
// process.exit() ends a run whose connection is still open (API.md §1).
const aioamqp = require('aioamqp');

(async () => {
  const [, protocol] = await aioamqp.connect();
  await protocol.channel();
  console.log('exiting with the connection open');
  process.exit(0);
})();
