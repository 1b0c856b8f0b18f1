// The contract's unknown-enum fixtures (gen/testdata/unknown-enums, one
// response per schema with an enum-valued member, each member set to a value
// the contract does not list) decode through the SDK with every value kept:
// each fixture is served by a fake server to the SDK call that returns that
// schema, and what the call returns must be the fixture, member for member.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AgentSession, APIError, PermissionRequiredError, RetryBudget, type Fetch } from '../../src/index.js';
import type { components } from '../../src/generated/openapi.js';
import { json, sse, TOKEN } from '../helpers/fake.js';
import { repoDir } from '../helpers/refserver.js';
import { Spec } from '../helpers/spec.js';

type Schemas = components['schemas'];
type Doc = Record<string, unknown>;
const dir = join(repoDir, 'gen', 'testdata', 'unknown-enums');
const spec = new Spec();

/** A client whose every request is answered by `answer`. */
function clientAnswering(answer: (url: URL, method: string) => Response): AgentSession {
  const fetch: Fetch = async (url, init) => answer(new URL(String(url)), init?.method ?? 'GET');
  return new AgentSession({ baseURL: 'http://api.test', token: TOKEN, fetch, maxRetries: 0, retry: { budget: new RetryBudget(1000) } });
}
const serving = (body: unknown) => clientAnswering(() => json(200, body));
const page = (item: unknown) => ({ items: [item] });
const capabilities = (over: Doc) => ({
  api_version: 'v1',
  server: { name: 'fake', version: '0' },
  agents: [{ name: 'echo', kind: 'echo' }],
  features: { streaming: true, resume: true, files: true, lifecycle: true, children: true, replay: true, idempotency: true, busy_policies: ['reject'] },
  limits: {},
  ...over,
});
const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const summary = { session_id: 's1', turn_index: 3, stop_reason: 'end_turn', duration_ms: 1, event_count: 0, started_at: 'x', ended_at: 'y' };

/**
 * For each schema, the SDK call that returns it, typed as the generated model,
 * so the SDK's public type is the contract's. Each is given the fixture and
 * returns what the SDK made of it.
 */
const decoders: { [K in keyof Schemas]?: (f: Doc) => Promise<Schemas[K]> } = {
  Problem: async (f) => {
    const c = clientAnswering(() => new Response(JSON.stringify(f), { status: f['status'] as number, headers: { 'content-type': 'application/problem+json' } }));
    const err = await c.sessions.get('s1').then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof APIError, String(err));
    return { type: err.type ?? '', title: err.title ?? '', status: err.status, code: err.code ?? '', request_id: err.requestId ?? '', detail: err.detail };
  },
  Health: (f) => serving(f).health(),
  AgentInfo: async (f) => (await serving(capabilities({ agents: [f] })).capabilities()).agents[0]!,
  AgentScript: async (f) => (await serving(capabilities({ agents: [{ name: 'scripted', kind: 'scripted', script: f }] })).capabilities()).agents[0]!.script!,
  ScriptEvent: async (f) =>
    (await serving(capabilities({ agents: [{ name: 'scripted', kind: 'scripted', script: { steps: [{ event: f }] } }] })).capabilities()).agents[0]!.script!
      .steps[0]!.event!,
  Features: async (f) => (await serving(capabilities({ features: f })).capabilities()).features,
  Session: async (f) => (await serving(f).sessions.get(f['session_id'] as string)).info!,
  Event: async (f) => (await serving(page(f)).sessions.handle('s1').events().toArray())[0]!,
  TurnAccepted: async (f) => {
    const c = clientAnswering(() => sse([frame('turn.accepted', f), frame('turn.completed', summary)]));
    const st = c.sessions.handle('s1').turnStream('hi');
    await st.result();
    return st.accepted!;
  },
  TurnSummary: async (f) => {
    const c = clientAnswering(() => sse([frame('turn.accepted', { session_id: 's1', turn_index: 3, status: 'running' }), frame('turn.completed', f)]));
    const { events, ...rest } = await c.sessions.handle('s1').turnStream('hi').result();
    assert.deepEqual(events, []);
    return rest;
  },
  TurnResult: (f) => serving(f).sessions.handle('s1').turn('hi'),
  Turn: (f) => serving(f).sessions.handle('s1').getTurn(3),
  HandoffContext: (f) => serving(f).sessions.handle('s1').handoffContext(),
  LogEntry: async (f) => (await serving(page(f)).sessions.handle('s1').listLog().toArray())[0]!,
  Artifact: async (f) => (await serving(page(f)).sessions.handle('s1').artifacts().toArray())[0]!,
  ReplayContext: (f) => serving(f).sessions.handle('s1').replayContext(),
  AgentOption: async (f) => (await serving(capabilities({ agents: [{ name: 'echo', kind: 'echo', options: [f] }] })).capabilities()).agents[0]!.options![0]!,
  ScriptBranch: async (f) => {
    const script = { steps: [{ ask: { title: 't', options: [], branches: { allow: f } } }] };
    const c = serving(capabilities({ agents: [{ name: 'scripted', kind: 'scripted', script }] }));
    return (await c.capabilities()).agents[0]!.script!.steps[0]!.ask!.branches!['allow']!;
  },
  PermissionRequest: async (f) => (await serving(page(f)).sessions.handle('s1').permissions().toArray())[0]!,
  PermissionOption: async (f) => {
    const request = { request_id: 'p', session_id: 's1', turn_index: 1, title: 't', options: [f], status: 'pending', created_at: 'x' };
    return (await serving(page(request)).sessions.handle('s1').permissions().toArray())[0]!.options[0]!;
  },
  TurnWaiting: async (f) => {
    const c = clientAnswering(() => json(202, f));
    const err = await c.sessions.handle('s1').turn('hi').catch((e: unknown) => e);
    assert.ok(err instanceof PermissionRequiredError, String(err));
    assert.deepEqual(err.requests, f['permission_requests']);
    return err.waiting;
  },
  LifecycleEvent: async (f) => {
    const fromPage = (await serving(page(f)).sessions.handle('s1').lifecycleEvents().toArray())[0]!;
    // The session stream keeps the same values.
    const ended = { session_id: 's1', status: 'completed', queued_turns: 0 };
    const c = clientAnswering(() => sse([`event: session.lifecycle\nid: 7.3\ndata: ${JSON.stringify(f)}\n\n`, frame('session.ended', ended)]));
    for await (const item of c.sessions.handle('s1').stream()) if (item.type === 'lifecycle') assert.deepEqual(item.lifecycle, fromPage);
    return fromPage;
  },
};

/** The schemas the Go test (gen/openenum_test.go) decodes, from its goModels table. */
function goModels(): string[] {
  const src = readFileSync(join(repoDir, 'gen', 'openenum_test.go'), 'utf8');
  const table = /var goModels = map\[string\]func\(\) any\{([\s\S]*?)\n\}/.exec(src)?.[1] ?? '';
  return [...table.matchAll(/"(\w+)":\s*func\(\)/g)].map((m) => m[1] as string).sort();
}

describe('unknown enum values (gen/testdata/unknown-enums)', () => {
  const schemas = spec.schemasWithEnums();
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();

  it('has a fixture and a decoder for every schema the Go test covers, and for every response schema with an enum', () => {
    assert.ok(schemas.length >= 10, `only ${schemas.length} schemas with enums found: the walk is broken`);
    const go = goModels();
    assert.ok(go.length >= 10, 'the goModels table of gen/openenum_test.go was not found');
    for (const name of new Set([...go, ...schemas])) {
      assert.ok(fixtures.includes(name), `no fixture gen/testdata/unknown-enums/${name}.json`);
      assert.ok(name in decoders, `no TypeScript decoder for ${name}`);
    }
    assert.deepEqual(Object.keys(decoders).sort(), [...new Set([...go, ...schemas])].sort(), 'a decoder for a schema without enums');
  });

  for (const name of fixtures) {
    it(`${name} keeps every unknown value`, async () => {
      const fixture = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Doc;
      const unknown = spec.unknownValues(name, fixture);
      assert.ok(unknown.length > 0, 'the fixture sets no enum-valued member to an unknown value');
      const decode = decoders[name as keyof Schemas] as ((f: Doc) => Promise<unknown>) | undefined;
      assert.ok(decode, `no decoder for ${name}`);
      const got = JSON.parse(JSON.stringify(await decode(structuredClone(fixture)))) as Doc;
      assert.deepEqual(got, fixture);
      const text = JSON.stringify(got);
      for (const v of unknown) assert.ok(text.includes(JSON.stringify(v)), `${v} lost`);
    });
  }
});
