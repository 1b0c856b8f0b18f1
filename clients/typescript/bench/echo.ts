// The SDK's echo turn against a raw fetch of the same request, interleaved in
// one process (bench/harness.ts: ABBA rounds, warm-up, median and quartiles
// of the per-round ratios). Run from the repository root:
//
//   make ts-bench       against the reference server (a subprocess, in-memory store)
//   make ts-bench-cpu   against an in-memory fetch: the client's own CPU cost only
//
// ROUNDS, BATCH (turns per variant per round), BLOCK (turns in a row of one
// variant) and WARMUP (turns per variant) change the counts; MODE=server|cpu
// picks the target when run directly (`node build/bench/echo.js`). AA=1 runs
// raw fetch against itself (two sessions): the benchmark's own noise and bias.
import { cpus, loadavg } from 'node:os';
import { AgentSession, type Fetch } from '../src/index.js';
import { startServer } from '../test/helpers/refserver.js';
import { compare, summarize, type Spread, type Turn } from './harness.js';

const mode = process.env['MODE'] ?? 'server';
if (mode !== 'server' && mode !== 'cpu') throw new Error(`MODE must be server or cpu, got ${mode}`);
const cpu = mode === 'cpu';
const aa = process.env['AA'] === '1';
const rounds = Number(process.env['ROUNDS'] ?? 31);
const batch = Number(process.env['BATCH'] ?? (cpu ? 4000 : 400));
const block = Number(process.env['BLOCK'] ?? (cpu ? 50 : 10));
const warmup = Number(process.env['WARMUP'] ?? (cpu ? 20000 : 1000));

// The reference server's answer to an echo turn, byte for byte but for the
// prompt: what the in-memory fetch answers, so both clients decode the same.
function echoAnswer(prompt: string): string {
  return JSON.stringify({
    duration_ms: 0,
    ended_at: '2026-12-01T23:03:42.697900603Z',
    event_count: 1,
    events: [{ content: prompt, created_at: '2026-12-01T23:03:42.697900603Z', seq: 1, turn_index: 1, type: 'text' }],
    first_seq: 1,
    last_seq: 1,
    session_id: 'sess_h3anfbxgpevj62u7lh7d5ker4n',
    started_at: '2026-12-01T23:03:42.697829057Z',
    stop_reason: 'end_turn',
    turn_index: 1,
    usage: { input_tokens: 2, output_tokens: 2 },
  });
}

// Does what undici's fetch does with the request before it goes out (headers
// normalized into a Headers) and answers as the server does, so the two
// clients differ only in their own code.
const memoryFetch: Fetch = async (_url, init) => {
  const headers = new Headers(init.headers);
  if (!headers.get('authorization') || !headers.get('idempotency-key')) throw new Error('memoryFetch: a header is missing');
  const { prompt } = JSON.parse(init.body as string) as { prompt: string };
  const body = echoAnswer(prompt);
  return new Response(body, {
    status: 200,
    headers: {
      'content-length': String(Buffer.byteLength(body)),
      'content-type': 'application/json',
      'x-request-id': 'req_ygdvbhxd5zdvgzmdvxxz5cqj56',
      date: new Date().toUTCString(),
    },
  });
};

let baseURL = 'http://bench.invalid';
let token = 'tok-bench';
let stop = async (): Promise<void> => {};
if (!cpu) {
  const srv = await startServer();
  baseURL = srv.url;
  token = srv.tokens[0] as string;
  stop = srv.stop;
}
const fetchFn: Fetch = cpu ? memoryFetch : (url, init) => fetch(url, init);
const client = new AgentSession({ baseURL, token, fetch: fetchFn });
const newSession = async (name: string): Promise<string> => (cpu ? name : (await client.sessions.create({ agent: 'echo' })).id);
const sdkSession = client.sessions.handle(await newSession('sess_a'));
const rawURL = `${baseURL}/v1/sessions/${await newSession('sess_b')}/turns`;
const rawURL2 = `${baseURL}/v1/sessions/${await newSession('sess_c')}/turns`;

const sdkTurn: Turn = async (i) => (await sdkSession.turn(`hello ${i}`)).text();

// What a careful hand-written client sends: the same headers, a fresh idempotency key, JSON decoded.
const rawTurnOn = (url: string): Turn => async (i) => {
  const res = await fetchFn(url, {
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
};
const rawTurn = rawTurnOn(rawURL);

const load0 = loadavg();
const t0 = performance.now();
const results = await compare(aa ? rawTurnOn(rawURL2) : sdkTurn, rawTurn, { rounds, batch, block, warmup, expect: (i) => `hello ${i}` });
const seconds = (performance.now() - t0) / 1000;
const load1 = loadavg();
await stop();

const s = summarize(results);
const [A, B] = aa ? ['raw #2', 'raw fetch'] : ['SDK', 'raw fetch'];
const n = (x: number, w = 7): string => x.toFixed(Math.abs(x) < 100 ? 1 : 0).padStart(w);
const x = (r: number): string => `${r.toFixed(3)}x`.padStart(7);
const row = (name: string, v: Spread, f: (x: number) => string): string => `  ${name.padEnd(24)}${f(v.median)} ${f(v.q1)} ${f(v.q3)}`;
console.log(
  `echo turn, ${cpu ? 'in-memory fetch (client CPU only)' : 'reference server'}${aa ? ', A/A' : ''}: ${rounds} rounds x ${batch} turns ` +
    `per variant in ABBA blocks of ${block}, ${warmup} warm-up turns each; ${seconds.toFixed(0)} s`,
);
console.log(`  Node ${process.version}, ${cpus().length} CPUs, load average ${load0[0]?.toFixed(2)} at start, ${load1[0]?.toFixed(2)} at end`);
console.log(`  ${''.padEnd(24)} median      q1      q3   (µs per turn; quartiles over rounds)`);
console.log(row(`${B}, wall`, s.b.wall, n));
console.log(row(`${A}, wall`, s.a.wall, n));
console.log(row(`${B}, median turn`, s.b.typical, n));
console.log(row(`${A}, median turn`, s.a.typical, n));
console.log(row(`${B}, CPU`, s.b.cpu, n));
console.log(row(`${A}, CPU`, s.a.cpu, n));
console.log(row(`${A} - raw, CPU`, s.cpuDiff, n));
console.log(row(`${A} / raw, wall`, s.wallRatio, x) + (cpu || aa ? '   per-round ratios' : '   per-round ratios (target: median <= 1.10x)'));
console.log(row(`${A} / raw, median`, s.typicalRatio, x));
console.log(row(`${A} / raw, CPU`, s.cpuRatio, x));
