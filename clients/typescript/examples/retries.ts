import { AbortError, AgentSession, RetryBudget, TimeoutError } from '@agentsession/sdk';

const client = new AgentSession({
  maxRetries: 5, // 6 attempts in all (default 3)
  timeout: 30_000, // per attempt (default 60 s)
  totalTimeout: 120_000, // the whole call, waits between attempts included
  retry: { initialDelay: 250, maxDelay: 8_000, maxRetryAfter: 30_000, budget: new RetryBudget(500) },
});

const session = await client.sessions.create({ agent: 'echo' });
// Your own key makes the call safe to repeat, even from another process: no second turn.
const key = crypto.randomUUID();
const first = await session.turn('charge the card once', { idempotencyKey: key });
const again = await session.turn('charge the card once', { idempotencyKey: key });
console.log(`same turn: ${first.turn_index === again.turn_index}, replayed: ${again.response?.replayed}`);

try {
  await session.turn('too slow for me', { signal: AbortSignal.timeout(1) });
} catch (err) {
  if (err instanceof AbortError) console.log('aborted:', err.name);
  else if (err instanceof TimeoutError) console.log('timed out:', err.message);
  else throw err;
}
await session.close();
