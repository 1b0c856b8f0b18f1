// The SDK's echo turn against a raw fetch of the same request, on one
// reference server, interleaved in one run so both see the same machine
// state. Run: make ts-bench (or `npm run bench` in clients/typescript).
//   ROUNDS (default 15) rounds of BATCH (default 300) turns per variant.
import { AgentSession } from '../src/index.js';
import { startServer } from '../test/helpers/refserver.js';

const rounds = Number(process.env['ROUNDS'] ?? 15);
const batch = Number(process.env['BATCH'] ?? 300);

const srv = await startServer();
const token = srv.tokens[0] as string;
const client = new AgentSession({ baseURL: srv.url, token });
const sdkSession = await client.sessions.create({ agent: 'echo' });
const rawSession = (await client.sessions.create({ agent: 'echo' })).id;
const rawURL = `${srv.url}/v1/sessions/${rawSession}/turns`;

async function sdkTurn(i: number): Promise<string> {
  return (await sdkSession.turn(`hello ${i}`)).text();
}

// What a careful hand-written client sends: the same headers, a fresh idempotency key, JSON decoded.
async function rawTurn(i: number): Promise<string> {
  const res = await fetch(rawURL, {
    method: 'POST',
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      Authorization: `Bearer ${token}`,
      'Idempotency-Key': crypto.randomUUID(),
      'User-Agent': 'raw-fetch',
    },
    body: JSON.stringify({ prompt: `hello ${i}` }),
  });
  if (!res.ok) throw new Error(`raw: ${res.status}`);
  const data = (await res.json()) as { events: { type: string; content?: string }[] };
  let text = '';
  for (const e of data.events) if (e.type === 'text' && e.content) text += e.content;
  return text;
}

async function time(fn: (i: number) => Promise<string>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if ((await fn(i)) !== `hello ${i}`) throw new Error('wrong answer');
  }
  return ((performance.now() - t0) * 1000) / n; // µs per turn
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

await time(sdkTurn, 300);
await time(rawTurn, 300);
const sdk: number[] = [];
const raw: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so neither always runs on a warmer server.
  let s: number;
  let w: number;
  if (r % 2 === 0) {
    s = await time(sdkTurn, batch);
    w = await time(rawTurn, batch);
  } else {
    w = await time(rawTurn, batch);
    s = await time(sdkTurn, batch);
  }
  sdk.push(s);
  raw.push(w);
  ratios.push(s / w);
}
await srv.stop();

const fmt = (x: number): string => x.toFixed(0).padStart(6);
console.log(`echo turn, ${rounds} rounds x ${batch} turns per variant, Node ${process.version}`);
console.log(`  raw fetch  median ${fmt(median(raw))} µs/turn   (min ${fmt(Math.min(...raw))})`);
console.log(`  SDK        median ${fmt(median(sdk))} µs/turn   (min ${fmt(Math.min(...sdk))})`);
console.log(`  SDK / raw  median of per-round ratios ${median(ratios).toFixed(3)}x   (target <= 1.10x)`);
