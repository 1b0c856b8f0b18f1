// Comparing two clients fairly on one machine: both run in the same process,
// interleaved in ABBA order (A, B, B, A within every round, each for half the
// batch), so a drift of the machine's speed during a round weighs on both
// alike; the per-round ratio is the statistic, and its median and quartiles
// over many rounds say how far apart the clients are and how much the
// machine moved. Wall clock and this process's CPU time are both recorded:
// the CPU time is the client's own cost, whatever the server or the network did.

/** One call of a client; resolves to the text it got, checked against `expect(i)`. */
export type Turn = (i: number) => Promise<string>;

export interface Sample {
  /** Wall clock, µs per turn. */
  wall: number;
  /** This process's user + system CPU time, µs per turn. */
  cpu: number;
}

export interface Round {
  a: Sample;
  b: Sample;
}

export interface BenchOptions {
  rounds: number;
  /** Turns per variant per round (two halves of batch/2). */
  batch: number;
  /** Turns per variant before the first round, not counted (JIT, connection pool, caches). */
  warmup: number;
  expect: (i: number) => string;
}

async function segment(fn: Turn, n: number, start: number, expect: (i: number) => string): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = start; i < start + n; i++) {
    const got = await fn(i);
    if (got !== expect(i)) throw new Error(`turn ${i}: got ${JSON.stringify(got)}, want ${JSON.stringify(expect(i))}`);
  }
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall: (wall * 1000) / n, cpu: (c.user + c.system) / n };
}

const add = (x: Sample, y: Sample): Sample => ({ wall: (x.wall + y.wall) / 2, cpu: (x.cpu + y.cpu) / 2 });

/** Runs the warm-up, then `rounds` ABBA rounds; returns the per-round samples. */
export async function compare(a: Turn, b: Turn, o: BenchOptions): Promise<Round[]> {
  if (!(o.rounds >= 1 && o.batch >= 2)) throw new Error('rounds must be at least 1 and batch at least 2');
  let i = 0;
  // Warm-up in both orders too, so neither variant leaves the other a warmer path.
  const w = Math.ceil(o.warmup / 2);
  for (const fn of [a, b, b, a]) {
    await segment(fn, w, i, o.expect);
    i += w;
  }
  const half = o.batch >> 1;
  const out: Round[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const a1 = await segment(a, half, i, o.expect);
    const b1 = await segment(b, half, (i += half), o.expect);
    const b2 = await segment(b, half, (i += half), o.expect);
    const a2 = await segment(a, half, (i += half), o.expect);
    i += half;
    out.push({ a: add(a1, a2), b: add(b1, b2) });
  }
  return out;
}

/** The q-quantile (0..1) by linear interpolation between order statistics (R's type 7). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

export interface Spread {
  median: number;
  q1: number;
  q3: number;
}

export function spread(xs: readonly number[]): Spread {
  return { median: quantile(xs, 0.5), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75) };
}

export interface Summary {
  a: { wall: Spread; cpu: Spread };
  b: { wall: Spread; cpu: Spread };
  /** a/b per round. */
  wallRatio: Spread;
  cpuRatio: Spread;
  /** a − b per round, µs per turn. */
  cpuDiff: Spread;
}

export function summarize(rounds: readonly Round[]): Summary {
  const of = (f: (r: Round) => number): Spread => spread(rounds.map(f));
  return {
    a: { wall: of((r) => r.a.wall), cpu: of((r) => r.a.cpu) },
    b: { wall: of((r) => r.b.wall), cpu: of((r) => r.b.cpu) },
    wallRatio: of((r) => r.a.wall / r.b.wall),
    cpuRatio: of((r) => r.a.cpu / r.b.cpu),
    cpuDiff: of((r) => r.a.cpu - r.b.cpu),
  };
}
