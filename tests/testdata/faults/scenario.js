// A tiny load scenario, for its summary: connects with connect()'s defaults
// (AMQP_URL, which holds a password) in every iteration.
import * as aioamqp from 'aioamqp';

export const options = { vus: 2, iterations: 6 };

export default async function () {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const { queue } = await channel.queue_declare('', { exclusive: true });
  await channel.publish('x', '', queue);
  await protocol.close();
  transport.close();
}
