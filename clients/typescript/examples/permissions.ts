import { AgentSession, isPermissionRequest, PermissionRequiredError } from '@agentsession/sdk';

const client = new AgentSession();
const session = await client.sessions.create({ agent: 'scripted' });
// The scripted agent asks before it acts, and plays the branch of the answer.
const asking = (title: string) =>
  JSON.stringify({
    steps: [
      {
        ask: {
          title,
          options: [
            { option_id: 'allow', name: 'Allow', kind: 'allow_once' },
            { option_id: 'deny', name: 'Deny', kind: 'reject_once' },
          ],
          branches: {
            allow: { steps: [{ event: { type: 'text', content: 'Done.' } }] },
            deny: { steps: [{ event: { type: 'text', content: 'Left it.' } }], stop_reason: 'refusal' },
          },
        },
      },
    ],
  });

// 1. A stream yields the request; answer it on the event and read on: the same turn goes on.
for await (const event of session.turnStream(asking('Drop the table orders_old?'))) {
  if (isPermissionRequest(event)) {
    console.log(`asked: ${event.title} [${event.options.map((o) => o.option_id).join('/')}]`);
    await event.answer('allow');
  } else if (event.type === 'text') {
    console.log('streamed:', event.content);
  }
}

// 2. A non-streamed turn takes a handler that decides.
const result = await session.turn(asking('Write config.yaml?'), {
  onPermission: (request) => (request.title.startsWith('Write') ? 'deny' : 'allow'),
});
console.log(`handler: ${result.stop_reason}: ${result.text()}`);

// 3. Without a handler the turn rejects typed; it goes on waiting on the server.
try {
  await session.turn(asking('Delete the cache?'));
} catch (err) {
  if (!(err instanceof PermissionRequiredError)) throw err;
  for (const request of err.requests) await session.answerPermission(request.request_id, 'allow');
  console.log(`answered later: ${(await session.waitTurn(err.turnIndex)).text()}`);
}
await session.close();
