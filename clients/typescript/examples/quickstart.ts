import { AgentSession } from '@agentsession/sdk';

const client = new AgentSession(); // AGENTSESSION_BASE_URL, AGENTSESSION_TOKEN
const session = await client.sessions.create({ agent: 'echo', meta: { app: 'quickstart' } });
try {
  for (const prompt of ['Hello', 'Summarise the open pull requests.']) {
    const result = await session.turn(prompt);
    console.log(`turn ${result.turn_index} (${result.stop_reason}): ${result.text()}`);
  }
  for await (const s of client.sessions.list({ status: 'active' })) {
    console.log('active:', s.id, s.info?.agent);
  }
} finally {
  await session.close(); // idempotent; a failed close can be called again
}
