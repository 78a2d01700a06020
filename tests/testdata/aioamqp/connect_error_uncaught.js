// expect-exit: 1
// expect-stderr: AmqpClosedConnection
// expect-no-output: Pw-e2e-uncaught-91
// An unawaited failing connect is an unhandled rejection: exit 1, the error
// on stderr, and the password of the URL nowhere in the output.
const aioamqp = require('aioamqp');
await aioamqp.from_url('amqp://guest:Pw-e2e-uncaught-91@127.0.0.1:1/');
console.log('not reached');
