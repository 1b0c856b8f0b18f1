// A checker of scenario results (scenarios/README.md, "Observations"), for
// this package's own test of its runner: the observations are normalized as
// the README says and each step's `expect` / `expect_error` is checked. The
// orchestrator is the real judge; this one lets the runner be tested alone.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

type Obj = Record<string, unknown>;

export interface Observation {
  step: number;
  do: string;
  value?: unknown;
  text?: string;
  /** null (or absent) when the step succeeded; absent for a background turn. */
  error?: { kind: string; status: number; code: string; message?: string } | null;
}
export interface ScenarioResult {
  id: string;
  observations: Observation[];
  aborted: string | null;
}
export interface ResultFile {
  sdk: string;
  sdk_version: string;
  run: string;
  scenarios: ScenarioResult[];
}
export interface ScenarioStep {
  do: string;
  as?: string;
  expect?: Obj;
  expect_error?: string;
}
export interface ScenarioFile {
  id: string;
  faults?: unknown[];
  steps: ScenarioStep[];
}

export function loadScenarios(dir: string): ScenarioFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as ScenarioFile);
}

/** The proxy configuration of a run: a profile's rules plus every scenario's own. */
export function faultConfig(scenarios: ScenarioFile[], profile: { seed?: number; rules?: unknown[] } = {}): string {
  const rules = [...(profile.rules ?? []), ...scenarios.flatMap((s) => s.faults ?? [])];
  return JSON.stringify({ seed: profile.seed ?? 1, rules });
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The README's normalization: ids by alias, timestamps, durations, entry ids and request ids (but a permission request's) by placeholders. */
export function normalize(v: unknown, names: Map<string, string>, key = ''): unknown {
  if (typeof v === 'string') {
    if (names.has(v)) return names.get(v);
    if (key.endsWith('_at') || key === 'time') return '<time>';
    if (key === 'id') return '<id>';
    if (key === 'request_id') return '<request-id>';
    return v;
  }
  if (key === 'duration_ms' && typeof v === 'number') return '<ms>';
  if (Array.isArray(v)) return v.map((x) => normalize(x, names, ''));
  if (isObj(v)) {
    // A permission request's id is the script's (a PermissionRequest, a permission_request or
    // permission_response event): kept; any other request_id is the server's.
    const permission = v['type'] === 'permission_request' || v['type'] === 'permission_response' || ('request_id' in v && Array.isArray(v['options']));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, permission && k === 'request_id' ? x : normalize(x, names, k)]));
  }
  return v;
}

/** Why `got` does not contain `want` (README: objects recursively, lists in full or `$contains` / `$len`); undefined when it does. */
export function mismatch(want: unknown, got: unknown, path = ''): string | undefined {
  if (isObj(want) && '$len' in want) {
    return Array.isArray(got) && got.length === want['$len'] ? undefined : `${path}: want length ${String(want['$len'])}, got ${describe(got)}`;
  }
  if (isObj(want) && '$contains' in want) {
    if (!Array.isArray(got)) return `${path}: want a list, got ${describe(got)}`;
    for (const w of want['$contains'] as unknown[]) {
      if (!got.some((g) => mismatch(w, g) === undefined)) return `${path}: no item matches ${JSON.stringify(w)}`;
    }
    return undefined;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return `${path}: want ${want.length} items, got ${describe(got)}`;
    for (const [i, w] of want.entries()) {
      const m = mismatch(w, got[i], `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (isObj(want)) {
    if (!isObj(got)) return `${path}: want an object, got ${describe(got)}`;
    for (const [k, w] of Object.entries(want)) {
      const m = mismatch(w, got[k], `${path}.${k}`);
      if (m) return m;
    }
    return undefined;
  }
  return want === got ? undefined : `${path}: want ${JSON.stringify(want)}, got ${describe(got)}`;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

const substRun = (v: unknown, run: string): unknown =>
  typeof v === 'string'
    ? v.replaceAll('${run}', run)
    : Array.isArray(v)
      ? v.map((x) => substRun(x, run))
      : isObj(v)
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substRun(x, run)]))
        : v;

/** Every expectation of every scenario that the result file breaks, as readable lines. */
export function check(result: ResultFile, scenarios: ScenarioFile[]): string[] {
  const problems: string[] = [];
  for (const sc of scenarios) {
    const got = result.scenarios.find((r) => r.id === sc.id);
    if (!got) {
      problems.push(`${sc.id}: missing from the result`);
      continue;
    }
    if (got.aborted !== null) problems.push(`${sc.id}: aborted: ${got.aborted}`);
    if (got.observations.length !== sc.steps.length) problems.push(`${sc.id}: ${got.observations.length} observations for ${sc.steps.length} steps`);
    // Names: the sessions and files the scenario made, by alias.
    const names = new Map<string, string>();
    for (const [i, st] of sc.steps.entries()) {
      const v = got.observations[i]?.value;
      if (!st.as || !isObj(v)) continue;
      if (typeof v['session_id'] === 'string' && st.do !== 'turn') names.set(v['session_id'], `<session:${st.as}>`);
      if (typeof v['file_token'] === 'string') names.set(v['file_token'], `<file:${st.as}>`);
    }
    for (const [i, st] of sc.steps.entries()) {
      const o = got.observations[i];
      const where = `${sc.id} step ${i + 1} (${st.do})`;
      if (!o) continue;
      if (o.step !== i + 1 || o.do !== st.do) problems.push(`${where}: observation is step ${o.step} (${o.do})`);
      if (st.expect_error !== undefined) {
        if (o.error?.kind !== st.expect_error) problems.push(`${where}: want error ${st.expect_error}, got ${JSON.stringify(o.error)}`);
        continue;
      }
      if (o.error) {
        problems.push(`${where}: failed: ${JSON.stringify(o.error)}`);
        continue;
      }
      const norm = normalize({ value: o.value, text: o.text }, names);
      if (st.expect) {
        const m = mismatch(substRun(st.expect, result.run), norm);
        if (m) problems.push(`${where}: ${m}`);
      }
      if (st.do === 'turn_stream') {
        const v = o.value as { events: { seq: number }[]; result: { events: unknown[]; first_seq?: number } };
        const seqs = v.events.map((e) => e.seq);
        const from = seqs[0] ?? 0;
        if (seqs.some((s, k) => s !== from + k)) problems.push(`${where}: streamed seqs ${JSON.stringify(seqs)} are not consecutive`);
        if (JSON.stringify(v.events) !== JSON.stringify(v.result.events)) problems.push(`${where}: the streamed events differ from the result's`);
      }
    }
  }
  return problems;
}
