import { AgentSession, APIError, BusyError, NotFoundError, ProblemCode, TransportError, ValidationError } from '@agentsession/sdk';

const client = new AgentSession();

try {
  await client.sessions.get('sess_does_not_exist');
} catch (err) {
  if (err instanceof NotFoundError) {
    console.log(`not found (${err.status} ${err.code}, request ${err.requestId})`);
  } else {
    throw err;
  }
}

try {
  await client.sessions.create({ agent: 'no-such-agent' });
} catch (err) {
  // `code` is one of the contract's ProblemCode values, or a newer one kept as it came.
  if (err instanceof ValidationError && err.code === ProblemCode.UnknownAgent) console.log(`rejected: ${err.code}: ${err.detail}`);
  else throw err;
}

// Busy: with a turn running, a turn with busy policy "reject" fails at once.
const session = await client.sessions.create({ agent: 'scripted' });
const slow = session.turn(JSON.stringify({ steps: [{ delay_ms: 500, event: { type: 'text', content: 'done' } }] }));
while ((await session.refresh()).activity !== 'running') await new Promise((r) => setTimeout(r, 10));
try {
  await session.turn('{"steps":[]}', { busyPolicy: 'reject' });
} catch (err) {
  if (err instanceof BusyError) console.log(`busy: ${err.code}`);
  else if (err instanceof APIError) console.log(`${err.status} ${err.code} after ${err.attempts} attempts`);
  else if (err instanceof TransportError) console.log(`no answer: ${err.message}`);
  else throw err;
}
console.log('the running turn:', (await slow).text());
await session.close();
