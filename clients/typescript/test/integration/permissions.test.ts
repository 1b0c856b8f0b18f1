// Permission requests against the reference server: answered through a
// streamed event, by a turn's onPermission handler, or after a
// PermissionRequiredError with answerPermission and waitTurn.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AgentSession,
  BusyError,
  isPermissionRequest,
  NotFoundError,
  PermissionRequiredError,
  PermissionResolvedError,
  UnknownOptionError,
  type PermissionRequest,
  type TurnEvent,
} from '../../src/index.js';
import { startServer, type RefServer } from '../helpers/refserver.js';

let srv: RefServer;
let client: AgentSession;

before(async () => {
  srv = await startServer();
  client = new AgentSession({ baseURL: srv.url, token: srv.tokens[0], retry: { initialDelay: 5, maxDelay: 20 } });
});
after(() => srv.stop());

const options = [
  { option_id: 'allow', name: 'Allow', kind: 'allow_once' },
  { option_id: 'deny', name: 'Deny', kind: 'reject_once' },
];

/** A script step that asks `id`; `allow` plays `yes`, `deny` plays `no` and ends the turn with refusal. */
function ask(id: string, yes: string, no = 'refused') {
  return {
    ask: {
      request_id: id,
      tool_call_id: `call_${id}`,
      title: `May I ${id}?`,
      options,
      branches: {
        allow: { steps: [{ event: { type: 'text', content: yes } }] },
        deny: { steps: [{ event: { type: 'text', content: no } }], stop_reason: 'refusal' },
      },
    },
  };
}
const prompt = (...steps: unknown[]): string => JSON.stringify({ steps });

describe('permission requests', () => {
  it('a streamed turn yields the request with answer(); reading on continues the same turn', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const st = s.turnStream(prompt({ event: { type: 'text', content: 'a' } }, ask('p1', 'b'), { event: { type: 'text', content: 'c' } }));
    const seen: TurnEvent[] = [];
    let answered: PermissionRequest | undefined;
    for await (const e of st) {
      seen.push(e);
      if (isPermissionRequest(e)) {
        assert.equal(e.request_id, 'p1');
        assert.equal(e.title, 'May I p1?');
        assert.deepEqual(e.options.map((o) => o.option_id), ['allow', 'deny']);
        assert.ok(!Object.keys(e).includes('answer'), 'answer is not enumerable');
        assert.equal(JSON.parse(JSON.stringify(e)).answer, undefined);
        answered = await e.answer('allow');
      }
    }
    assert.equal(answered?.status, 'answered');
    assert.equal(answered?.option_id, 'allow');
    assert.deepEqual(seen.map((e) => e.type), ['text', 'permission_request', 'permission_response', 'text', 'text']);
    assert.deepEqual(seen.map((e) => e.seq), [1, 2, 3, 4, 5]);
    const r = await st.result();
    assert.equal(r.text(), 'abc');
    assert.equal(r.stop_reason, 'end_turn');
    assert.deepEqual(r.events.map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.ok(!seen.some((e) => e.type !== 'permission_request' && isPermissionRequest(e)));
  });

  it('turn() with onPermission answers every request and resolves with the whole turn', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const asked: string[] = [];
    const r = await s.turn(prompt({ event: { type: 'text', content: 'a' } }, ask('p1', 'b'), ask('p2', 'c')), {
      onPermission: async (req, ctx) => {
        asked.push(`${req.request_id}@${ctx.turnIndex}:${req.status}:${req.options.length}`);
        await new Promise((res) => setTimeout(res, 5)); // a handler may take its time
        return 'allow';
      },
    });
    assert.deepEqual(asked, ['p1@1:pending:2', 'p2@1:pending:2']);
    assert.equal(r.text(), 'abc');
    assert.equal(r.turn_index, 1);
    assert.equal(r.stop_reason, 'end_turn');
    // The result holds the turn's events as the server has them, each once.
    const onServer = (await s.getTurn(1)).events ?? [];
    assert.deepEqual(r.events.map((e) => [e.seq, e.type]), onServer.map((e) => [e.seq, e.type]));
    assert.deepEqual(r.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(r.event_count, 7);

    const refused = await s.turn(prompt(ask('p3', 'yes')), { onPermission: () => 'deny' });
    assert.equal(refused.stop_reason, 'refusal');
    assert.equal(refused.text(), 'refused');
  });

  it('turn() without a handler rejects typed and releases the turn order; answerPermission and waitTurn finish it', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const err = await s.turn(prompt(ask('p1', 'done'))).then(
      () => assert.fail('expected a PermissionRequiredError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof PermissionRequiredError, String(err));
    assert.equal(err.name, 'PermissionRequiredError');
    assert.equal(err.turnIndex, 1);
    assert.equal(err.sessionId, s.id);
    assert.deepEqual(err.requests.map((r) => [r.request_id, r.status]), [['p1', 'pending']]);
    assert.equal(err.lastSeq, 1);
    assert.match(err.message, /waitTurn\(1\)/);

    // The order is free: the next turn goes out at once (and the server says it is busy).
    await assert.rejects(s.turn(prompt()), BusyError);
    assert.equal((await s.refresh()).activity, 'waiting_for_input');
    const pending = await s.permissions({ status: 'pending' }).toArray();
    assert.deepEqual(pending.map((p) => p.request_id), ['p1']);

    await assert.rejects(s.answerPermission('p1', 'maybe'), UnknownOptionError);
    await assert.rejects(s.answerPermission('p_nobody', 'allow'), NotFoundError);
    const waited = s.waitTurn(1);
    const a = await s.answerPermission('p1', 'allow');
    assert.equal(a.status, 'answered');
    assert.equal((await s.answerPermission('p1', 'allow')).option_id, 'allow', 'the same answer again changes nothing');
    await assert.rejects(s.answerPermission('p1', 'deny'), PermissionResolvedError);
    const r = await waited;
    assert.equal(r.text(), 'done');
    assert.deepEqual(r.events.map((e) => e.type), ['permission_request', 'permission_response', 'text']);
    assert.equal((await s.waitTurn(1)).text(), 'done', 'waitTurn of an ended turn answers at once');
    const responses = (await s.events().toArray()).filter((e) => e.type === 'permission_response');
    assert.equal(responses.length, 1);
  });

  it('waitTurn with onPermission answers what is pending and what comes later', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const err = await s.turn(prompt(ask('p1', 'one '), ask('p2', 'two'))).catch((e: unknown) => e);
    assert.ok(err instanceof PermissionRequiredError);
    const asked: string[] = [];
    const r = await s.waitTurn(err.turnIndex, {
      onPermission: (req) => {
        asked.push(req.request_id);
        return 'allow';
      },
    });
    assert.deepEqual(asked, ['p1', 'p2']);
    assert.equal(r.text(), 'one two');
  });

  it('a cancelled turn cancels its pending request; the handler path ends with the cancelled turn', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const r = await s.turn(prompt(ask('p1', 'never')), {
      onPermission: async () => {
        await s.cancel(); // the turn ends before the answer comes: the answer is refused, the turn's end is the result
        return 'allow';
      },
    });
    assert.equal(r.stop_reason, 'cancelled');
    assert.equal(r.cancelled_by, 'cancel_request');
    const [p] = await s.permissions().toArray();
    assert.equal(p?.status, 'cancelled');
  });

  it('permissions() pages', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    await s.turn(prompt(ask('p1', 'a'), ask('p2', 'b'), ask('p3', 'c')), { onPermission: () => 'allow' });
    const pages: string[][] = [];
    for await (const page of s.permissions({ limit: 2 }).pages()) pages.push(page.items.map((p) => p.request_id));
    assert.deepEqual(pages, [['p1', 'p2'], ['p3']]);
  });
});
