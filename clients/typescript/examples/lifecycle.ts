import { AgentSession, InvalidTransitionError } from '@agentsession/sdk';

const client = new AgentSession();
const session = await client.sessions.create({ agent: 'echo', plan_slug: 'migrate-db' });

await session.log({ type: 'checkpoint', message: 'schema migrated', data: { tables: 12 } });
await session.addArtifact({ path: 'db/0042.sql', action: 'created', metadata: { lines: 87 } });
await session.updateContext({ current_task: 'tests', stale: null }); // JSON merge patch
const file = await session.upload(new TextEncoder().encode('test log'), { filename: 'tests.log' });
await session.turn('Read the test log.', { files: [file.file_token] });

await session.handoff({ summary: 'tests fail', next_steps: ['fix them'] });
console.log('after handoff:', session.info?.status, session.info?.action_count, 'actions');
const context = await session.handoffContext();
console.log('handoff notes:', context.handoff?.summary);

const next = await session.continue({ agent: 'echo' });
console.log('continued as', next.id, 'from', next.info?.continued_from);
const child = await next.spawn({ agent: 'echo', meta: { role: 'reviewer' } });
console.log('child at depth', child.info?.depth);

await session.end({ status: 'completed', summary: 'handed over' });
try {
  await session.resume();
} catch (err) {
  if (err instanceof InvalidTransitionError) console.log('cannot resume an ended session');
  else throw err;
}
const replayed = await session.replay();
console.log('replayed as', replayed.id, (await session.replayContext()).progress.summary);
await Promise.all([next.close(), replayed.close()]);
