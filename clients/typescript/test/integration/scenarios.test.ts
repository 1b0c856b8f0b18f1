// The scenario runner (scenarios/runner.ts, compiled to build/scenarios) run
// as the orchestrator runs it: a subprocess against the reference server
// behind the fault proxy (cmd/agentsession-faultproxy) carrying the rules the
// scenarios declare. Every step's `expect` / `expect_error` must hold, and the
// server, asked through the API, must hold each turn and event once.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { goBinary, packageDir, repoDir, startListening, startServer, type RefServer } from '../helpers/refserver.js';
import { check, faultConfig, loadScenarios, mismatch, normalize, type ResultFile } from '../helpers/scenario-check.js';

const run = promisify(execFile);
const runner = join(packageDir, 'build', 'scenarios', 'runner.js');
const scenariosDir = join(repoDir, 'scenarios');
const scenarios = loadScenarios(scenariosDir);

let srv: RefServer;
let proxy: { url: string; stop(): Promise<void> };
let tmp: string;
before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ts-scenarios-'));
  srv = await startServer();
  const config = join(tmp, 'faults.json');
  writeFileSync(config, faultConfig(scenarios));
  const fp = goBinary('agentsession-faultproxy', 'AGENTSESSION_FAULTPROXY_BIN');
  proxy = await startListening(fp, ['-target', srv.url, '-listen', '127.0.0.1:0', '-config', config, '-log-level', 'error']);
});
after(async () => {
  await Promise.all([proxy?.stop(), srv?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

function runRunner(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [runner, ...args], { timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

async function listAll(path: string, token: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const u = new URL(path, srv.url);
    u.searchParams.set('limit', '100');
    if (cursor) u.searchParams.set('cursor', cursor);
    const page = (await (await fetch(u, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: Record<string, unknown>[]; next_cursor?: string };
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

describe('scenarios/runner.ts', () => {
  it('runs every scenario through the SDK; every expectation holds; nothing is duplicated or lost on the server', async () => {
    const out = join(tmp, 'result.json');
    const runId = `r${Date.now().toString(36)}`;
    const [token, token2] = srv.tokens as [string, string];
    const r = await runRunner(['--base-url', proxy.url, '--token', token, '--token2', token2, '--run', runId, '--scenarios', scenariosDir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(out, 'utf8');
    for (const t of srv.tokens) {
      assert.ok(!text.includes(t) && !r.stdout.includes(t) && !r.stderr.includes(t), 'a token in the output');
    }
    const result = JSON.parse(text) as ResultFile;
    assert.equal(result.sdk, 'ts');
    assert.equal(result.run, runId);
    assert.deepEqual(result.scenarios.map((s) => s.id), scenarios.map((s) => s.id));
    assert.deepEqual(check(result, scenarios), []);

    // On the server, asked through the API: the sessions of this run (by the meta the
    // runner adds) hold exactly the turns the steps observed, and their events once each.
    const observed = new Map<string, number>(); // "session/turn" → event_count
    for (const o of result.scenarios.flatMap((s) => s.observations)) {
      if (o.error || !['turn', 'turn_stream', 'await'].includes(o.do) || o.value === undefined) continue;
      const v = (o.do === 'turn_stream' ? (o.value as { result: unknown }).result : o.value) as Record<string, unknown>;
      if ('frames' in v) continue; // the await of a session stream, not of a turn
      observed.set(`${String(v['session_id'])}/${String(v['turn_index'])}`, v['event_count'] as number);
    }
    // A turn whose call failed typed but went on on the server (permission_required: it waited
    // for an answer) is observed by a later `history` step of its session.
    for (const o of result.scenarios.flatMap((s) => s.observations)) {
      if (o.error || o.do !== 'history' || o.value === undefined) continue;
      for (const t of (o.value as { items: Record<string, unknown>[] }).items) {
        const k = `${String(t['session_id'])}/${String(t['turn_index'])}`;
        if (!observed.has(k) && t['status'] === 'completed') observed.set(k, t['event_count'] as number);
      }
    }
    const mine = (await listAll('/v1/sessions', token)).filter((s) => (s['meta'] as Record<string, unknown>)['run'] === runId);
    assert.ok(mine.length >= scenarios.length, `${mine.length} sessions of this run`);
    const onServer = new Map<string, number>();
    let events = 0;
    for (const s of mine) {
      const id = s['session_id'] as string;
      for (const t of await listAll(`/v1/sessions/${id}/turns`, token)) onServer.set(`${id}/${String(t['turn_index'])}`, t['event_count'] as number);
      const evs = await listAll(`/v1/sessions/${id}/events`, token);
      assert.deepEqual(evs.map((e) => e['seq']), evs.map((_, i) => i + 1), `${id}: every event once, without gaps`);
      events += evs.length;
    }
    assert.deepEqual([...onServer.entries()].sort(), [...observed.entries()].sort());
    assert.equal(events, [...observed.values()].reduce((a, b) => a + b, 0));
  });

  it('runs one scenario with --only', async () => {
    const out = join(tmp, 'only.json');
    const [token, token2] = srv.tokens as [string, string];
    const r = await runRunner(['--base-url', srv.url, '--token', token, '--token2', token2, '--run', 'only1', '--scenarios', scenariosDir, '--out', out, '--only', '12-idempotency']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(readFileSync(out, 'utf8')) as ResultFile;
    assert.deepEqual(result.scenarios.map((s) => s.id), ['12-idempotency']);
    assert.deepEqual(check(result, scenarios.filter((s) => s.id === '12-idempotency')), []);
  });

  it('a bad command line exits 2 and writes nothing', async () => {
    for (const args of [[], ['--base-url', srv.url], ['--bogus', 'x'], ['--base-url', srv.url, '--token', 'a', '--token2', 'b', '--run', 'r', '--scenarios', scenariosDir, '--out', join(tmp, 'x.json'), '--only', 'no-such']]) {
      const r = await runRunner(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage: node/);
    }
  });

  it('a step it does not understand, or one whose session a failed step should have made, aborts that scenario only', async () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a-bad.yaml'), 'id: a-bad\nsteps:\n  - {do: health}\n  - {do: teleport}\n  - {do: health}\n');
    writeFileSync(join(dir, 'b-good.yaml'), 'id: b-good\nsteps:\n  - {do: health}\n  - {do: get_session, session: nobody}\n');
    writeFileSync(join(dir, 'c-lost.yaml'), 'id: c-lost\nsteps:\n  - {do: create_session, as: s, with: {agent: no-such-agent}}\n  - {do: get_session, session: s}\n');
    const out = join(tmp, 'bad.json');
    const [token, token2] = srv.tokens as [string, string];
    const r = await runRunner(['--base-url', srv.url, '--token', token, '--token2', token2, '--run', 'bad', '--scenarios', dir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(readFileSync(out, 'utf8')) as ResultFile;
    const [bad, good, lost] = result.scenarios;
    assert.equal(bad?.observations.length, 1);
    assert.match(bad?.aborted ?? '', /step 2 \(teleport\): unknown operation "teleport"/);
    assert.equal(good?.observations.length, 1);
    assert.match(good?.aborted ?? '', /no earlier step makes session "nobody"/);
    // A step that needs what a failed step would have made ends the scenario; the failure is observed.
    assert.deepEqual(lost?.observations.map((o) => o.error?.kind), ['validation']);
    assert.match(lost?.aborted ?? '', /step 2 \(get_session\): session "s" was not made/);
  });

  it('the checker itself finds a wrong value, a missing error and a wrong list', () => {
    const names = new Map([['sess_1', '<session:s>']]);
    const obs = normalize({ value: { session_id: 'sess_1', created_at: 'x', duration_ms: 3, items: [{ a: 1, b: 2 }] }, text: 'hi' }, names);
    assert.equal(mismatch({ value: { session_id: '<session:s>', created_at: '<time>', duration_ms: '<ms>' }, text: 'hi' }, obs), undefined);
    assert.equal(mismatch({ value: { items: [{ a: 1 }] } }, obs), undefined);
    assert.equal(mismatch({ value: { items: { $len: 1 } } }, obs), undefined);
    assert.equal(mismatch({ value: { items: { $contains: [{ b: 2 }] } } }, obs), undefined);
    assert.ok(mismatch({ text: 'ho' }, obs));
    assert.ok(mismatch({ value: { items: [{ a: 1 }, { a: 1 }] } }, obs));
    assert.ok(mismatch({ value: { items: { $len: 2 } } }, obs));
    assert.ok(mismatch({ value: { items: { $contains: [{ b: 3 }] } } }, obs));
  });
});
