import { AgentSession, TurnEndedError } from '@agentsession/sdk';

const client = new AgentSession();
const session = await client.sessions.create({ agent: 'scripted' });

// Everything that happens in the session, across turns, until it ends.
const watching = (async () => {
  for await (const item of session.stream()) {
    if (item.type === 'event') console.log(`event #${item.event.seq} ${item.event.type}`);
    else if (item.type === 'lifecycle') console.log(`lifecycle ${item.lifecycle.type} ${item.lifecycle.turn_index ?? item.lifecycle.status}`);
    else console.log(`ended: ${item.session.end_reason}`);
  }
})();

const say = (text: string, delay_ms = 0) => JSON.stringify({ steps: [{ delay_ms, event: { type: 'text', content: text } }] });
const running = session.turn(say('slow', 300), { meta: { ticket: 'OPS-42' } });
while ((await session.refresh()).activity !== 'running') await new Promise((r) => setTimeout(r, 10));
const queued = session.turn(say('queued'), { busyPolicy: 'enqueue' });
while ((await session.refresh()).queued_turns !== 1) await new Promise((r) => setTimeout(r, 10));
for await (const turn of session.history({ status: 'queued' })) {
  console.log(`queued: turn ${turn.turn_index} at position ${turn.queue_position}`);
  await session.cancelTurn(turn.turn_index); // it ends cancelled without running
}
console.log(`queued turn: ${(await queued).stop_reason}`);
const first = await running;
console.log(`running turn: ${first.text()} (meta ${JSON.stringify(first.meta)})`);
try {
  await session.cancelTurn(1);
} catch (err) {
  if (err instanceof TurnEndedError) console.log('turn 1 has already ended');
  else throw err;
}
await session.close();
await watching;
