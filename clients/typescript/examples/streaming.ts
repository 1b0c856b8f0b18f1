import { AgentSession, eventTypeValues, isKnown } from '@agentsession/sdk';

const client = new AgentSession();
const session = await client.sessions.create({ agent: 'scripted' });
// The scripted agent plays the AgentScript given as the prompt.
const prompt = JSON.stringify({
  steps: [
    { delay_ms: 50, event: { type: 'thinking', content: 'Reading the diff.' } },
    { delay_ms: 50, event: { type: 'text', content: 'Looks ' } },
    { event: { type: 'text', content: 'good.' } },
  ],
});

const stream = session.turnStream(prompt, { idleTimeout: 120_000 });
for await (const event of stream) {
  // Each event once, in seq order, even when the connection drops and the stream resumes.
  // `type` is typed 'text' | 'thinking' | ... | (any string): newer types arrive as they are.
  const note = isKnown(eventTypeValues, event.type) ? '' : ' (newer than this SDK)';
  console.log(`#${event.seq} ${event.type}${note}: ${event.content ?? ''}`);
}
const result = await stream.result(); // the whole turn, as session.turn() returns it
console.log(`${result.stop_reason} after ${stream.resumes} resumes: ${result.text()}`);
await session.close();
