// Comparing two clients fairly on one machine: both run in the same process,
// interleaved in short blocks in ABBA order (A B B A, A B B A, ...), so a
// drift of a shared machine's speed weighs on both alike and neither always
// goes first. The statistic is the per-round ratio; its median and quartiles
// over many rounds say how far apart the clients are and how much the
// machine moved. Wall clock and this process's CPU time are both recorded:
// the CPU time is the client's own cost, whatever the server or the network did.

/** One call of a client; resolves to the text it got, checked against `expect(i)`. */
export type Turn = (i: number) => Promise<string>;

export interface Sample {
  /** Wall clock, µs per turn (the mean). */
  wall: number;
  /** The median turn's wall clock, µs: what a stall of the machine during a few turns does not move. */
  typical: number;
  /** This process's user + system CPU time, µs per turn. */
  cpu: number;
}

export interface Round {
  a: Sample;
  b: Sample;
}

export interface BenchOptions {
  rounds: number;
  /** Turns per variant per round. */
  batch: number;
  /**
   * Turns in a row of one variant (default 10): a round runs blocks in the order
   * A B B A, A B B A, ..., so both variants sample the same moments of a
   * shared machine, and neither always runs first or after the other.
   */
  block?: number;
  /** Turns per variant before the first round, not counted (JIT, connection pool, caches). */
  warmup: number;
  expect: (i: number) => string;
}

interface Totals {
  wall: number; // ms
  cpu: number; // µs
  turns: number;
  each: number[]; // ms per turn
}

const totals = (): Totals => ({ wall: 0, cpu: 0, turns: 0, each: [] });

async function block(fn: Turn, n: number, start: number, expect: (i: number) => string, into: Totals): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  for (let i = start; i < start + n; i++) {
    const got = await fn(i);
    const now = performance.now();
    into.each.push(now - t);
    t = now;
    if (got !== expect(i)) throw new Error(`turn ${i}: got ${JSON.stringify(got)}, want ${JSON.stringify(expect(i))}`);
  }
  into.wall += t - t0;
  const c = process.cpuUsage(c0);
  into.cpu += c.user + c.system;
  into.turns += n;
}

const perTurn = (t: Totals): Sample => ({ wall: (t.wall * 1000) / t.turns, typical: quantile(t.each, 0.5) * 1000, cpu: t.cpu / t.turns });

/** Runs the warm-up, then `rounds` rounds of ABBA blocks; returns each round's cost per turn of each variant. */
export async function compare(a: Turn, b: Turn, o: BenchOptions): Promise<Round[]> {
  const size = o.block ?? 10;
  if (!(o.rounds >= 1 && size >= 1 && o.batch >= 2 * size)) throw new Error('need rounds >= 1, block >= 1 and batch >= 2 * block');
  let i = 0;
  const run = async (fn: Turn, n: number, into: Totals): Promise<void> => {
    await block(fn, n, i, o.expect, into);
    i += n;
  };
  const scratch = totals();
  for (let w = 0; w < o.warmup; w += 2 * size) {
    await run(a, size, scratch);
    await run(b, size, scratch);
    await run(b, size, scratch);
    await run(a, size, scratch);
    scratch.each.length = 0;
  }
  const out: Round[] = [];
  const pairs = Math.max(1, Math.round(o.batch / (2 * size)));
  for (let r = 0; r < o.rounds; r++) {
    const ta = totals();
    const tb = totals();
    for (let p = 0; p < pairs; p++) {
      await run(a, size, ta);
      await run(b, size, tb);
      await run(b, size, tb);
      await run(a, size, ta);
    }
    out.push({ a: perTurn(ta), b: perTurn(tb) });
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
  a: { wall: Spread; typical: Spread; cpu: Spread };
  b: { wall: Spread; typical: Spread; cpu: Spread };
  /** a/b per round. */
  wallRatio: Spread;
  typicalRatio: Spread;
  cpuRatio: Spread;
  /** a − b per round, µs per turn. */
  cpuDiff: Spread;
}

export function summarize(rounds: readonly Round[]): Summary {
  const of = (f: (r: Round) => number): Spread => spread(rounds.map(f));
  return {
    a: { wall: of((r) => r.a.wall), typical: of((r) => r.a.typical), cpu: of((r) => r.a.cpu) },
    b: { wall: of((r) => r.b.wall), typical: of((r) => r.b.typical), cpu: of((r) => r.b.cpu) },
    wallRatio: of((r) => r.a.wall / r.b.wall),
    typicalRatio: of((r) => r.a.typical / r.b.typical),
    cpuRatio: of((r) => r.a.cpu / r.b.cpu),
    cpuDiff: of((r) => r.a.cpu - r.b.cpu),
  };
}
