// The TypeScript runner of the cross-language scenarios: it reads
// scenarios/*.yaml, runs every step through the SDK's public API (the package
// `@agentsession/sdk`, as its users import it) and writes the common result
// file. scenarios/README.md is the format's specification; the orchestrator,
// not this runner, checks the expectations.
//
//   node build/scenarios/runner.js --base-url URL --token TOKEN --token2 TOKEN2 \
//     --run RUN_ID --scenarios DIR --out FILE [--only ID]
//
// Exit status: 0 when the scenarios could be run (whatever their outcome), 2 on
// a bad command line, 1 when the result file cannot be written.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYAML } from 'yaml';
import {
  AgentSession,
  APIError,
  AuthError,
  BusyError,
  ConflictError,
  InvalidTransitionError,
  isPermissionRequest,
  NotFoundError,
  PayloadTooLargeError,
  PermissionRequiredError,
  PermissionResolvedError,
  RateLimitError,
  ServerError,
  SessionEndedError,
  SessionPausedError,
  SpawnLimitError,
  StreamIdleTimeoutError,
  StreamLostError,
  TransportError,
  TurnEndedError,
  ValidationError,
  VERSION,
  type ArtifactParams,
  type BusyPolicy,
  type ContextPatch,
  type ContinueSessionParams,
  type CreateSessionParams,
  type EndSessionParams,
  type FileInfo,
  type HandoffParams,
  type ListArtifactsParams,
  type ListEventsParams,
  type ListLifecycleEventsParams,
  type ListLogParams,
  type ListPermissionsParams,
  type ListTurnsParams,
  type ListSessionsParams,
  type LogEntryParams,
  type ReplaySessionParams,
  type RequestOptions,
  type Session,
  type SessionStreamItem,
  type TurnEvent,
  type TurnOptions,
  type TurnResult,
  type UploadOptions,
} from '@agentsession/sdk';

// --- the format (scenarios/README.md)

type ClientName = 'default' | 'other_tenant' | 'bad_token';
type JSONObject = Record<string, unknown>;

interface Step {
  do: string;
  session?: string;
  with?: JSONObject;
  as?: string;
  client?: ClientName;
  expect?: unknown;
  expect_error?: string;
}

interface Scenario {
  id: string;
  steps: Step[];
}

/** The error kinds of the README's "Errors" table. */
type Kind =
  | 'auth'
  | 'not_found'
  | 'busy'
  | 'invalid_transition'
  | 'session_paused'
  | 'session_ended'
  | 'spawn_limit'
  | 'permission_required'
  | 'permission_resolved'
  | 'turn_ended'
  | 'conflict'
  | 'too_large'
  | 'validation'
  | 'rate_limited'
  | 'server'
  | 'transport'
  | 'timeout'
  | 'untyped';

interface Observation {
  step: number;
  do: string;
  value?: unknown;
  text?: string;
  /** null for a step that succeeded; absent for a background turn (its `await` observes it). */
  error?: { kind: Kind; status: number; code: string; message: string } | null;
}

interface ScenarioResult {
  id: string;
  observations: Observation[];
  aborted: string | null;
}

/** This SDK's name in the result file: the orchestrator's key for it (SCENARIO_SDKS=go,ts,py). */
const SDK_NAME = 'ts';

/** The wall-time bound of one step (the Go runner's), and of a background turn. */
const STEP_TIMEOUT = 60_000;
const BACKGROUND_TIMEOUT = 600_000;

const STEP_KEYS = new Set(['do', 'session', 'with', 'as', 'client', 'expect', 'expect_error']);
const CLIENTS = new Set<string>(['default', 'other_tenant', 'bad_token']);

/** A scenario the runner cannot go on with (a step it does not understand): it is aborted. */
class ScenarioError extends Error {}

/** `wait_activity` gave up (kind `timeout`). */
class WaitTimeout extends Error {}

/** A step that cannot run because an earlier step failed (a session or file it would have made): the scenario is aborted. */
class MissingResult extends Error {}

/** The kind of an error, by the SDK's typed error classes: the first row of the table that applies. */
function kindOf(err: unknown): Kind {
  if (err instanceof AuthError) return 'auth';
  if (err instanceof NotFoundError) return 'not_found';
  if (err instanceof BusyError) return 'busy';
  if (err instanceof InvalidTransitionError) return 'invalid_transition';
  if (err instanceof SessionPausedError) return 'session_paused';
  if (err instanceof SessionEndedError) return 'session_ended';
  if (err instanceof SpawnLimitError) return 'spawn_limit';
  if (err instanceof PermissionRequiredError) return 'permission_required';
  if (err instanceof PermissionResolvedError) return 'permission_resolved';
  if (err instanceof TurnEndedError) return 'turn_ended';
  if (err instanceof ConflictError) return 'conflict';
  if (err instanceof PayloadTooLargeError) return 'too_large';
  if (err instanceof ValidationError) return 'validation';
  if (err instanceof RateLimitError) return 'rate_limited';
  if (err instanceof ServerError) return 'server';
  // No answer: a connection that failed or timed out, or a stream that could not be resumed.
  if (err instanceof TransportError || err instanceof StreamLostError || err instanceof StreamIdleTimeoutError) return 'transport';
  if (err instanceof WaitTimeout) return 'timeout';
  return 'untyped';
}

// --- reading scenarios

function readScenario(file: string): Scenario {
  const doc = parseYAML(readFileSync(file, 'utf8')) as unknown;
  if (!isObject(doc)) throw new ScenarioError('not a YAML mapping');
  const id = doc['id'];
  if (typeof id !== 'string' || !/^[a-z0-9-]+$/.test(id)) throw new ScenarioError(`id ${JSON.stringify(id)} is not [a-z0-9-]+`);
  if (id !== basename(file, '.yaml')) throw new ScenarioError(`id ${id} is not the file's name`);
  const steps = doc['steps'];
  if (!Array.isArray(steps) || steps.length === 0) throw new ScenarioError('no steps');
  return { id, steps: steps as Step[] };
}

/** Checks a step's shape before it runs; a step the runner does not understand aborts the scenario. */
function checkStep(step: unknown, aliases: Set<string>): asserts step is Step {
  if (!isObject(step)) throw new ScenarioError('not a mapping');
  for (const k of Object.keys(step)) if (!STEP_KEYS.has(k)) throw new ScenarioError(`unknown key ${JSON.stringify(k)}`);
  const op = step['do'];
  if (typeof op !== 'string' || !(op in ops)) throw new ScenarioError(`unknown operation ${JSON.stringify(op)}`);
  const spec = ops[op] as Op;
  if (step['client'] !== undefined && !CLIENTS.has(String(step['client']))) {
    throw new ScenarioError(`unknown client ${JSON.stringify(step['client'])}`);
  }
  const w = step['with'] ?? {};
  if (!isObject(w)) throw new ScenarioError('with is not a mapping');
  for (const k of Object.keys(w)) {
    if (!spec.args.includes(k)) throw new ScenarioError(`${op} takes no argument ${JSON.stringify(k)} (it takes ${spec.args.join(', ') || 'none'})`);
  }
  if (spec.session) {
    const alias = step['session'];
    if (typeof alias !== 'string' && !(op === 'get_session' && typeof w['session_id'] === 'string')) {
      throw new ScenarioError(`${op} needs a session`);
    }
    if (typeof alias === 'string' && !aliases.has(alias)) throw new ScenarioError(`no earlier step makes session ${JSON.stringify(alias)}`);
  }
  if (typeof step['as'] === 'string') aliases.add(step['as']);
}

// --- running

interface Outcome {
  value?: unknown;
  text?: string;
  /** A background turn was started: observed by its `await`, not here. */
  background?: true;
}

interface Made {
  session: Session;
  client: AgentSession;
}

class ScenarioRun {
  readonly #scenario: Scenario;
  readonly #runId: string;
  readonly #clients: Record<ClientName, AgentSession>;
  readonly #sessions = new Map<string, Made>();
  readonly #files = new Map<string, FileInfo>();
  readonly #background = new Map<string, Promise<Outcome>>();
  readonly #secrets: string[];

  constructor(scenario: Scenario, runId: string, clients: Record<ClientName, AgentSession>, secrets: string[]) {
    this.#scenario = scenario;
    this.#runId = runId;
    this.#clients = clients;
    this.#secrets = secrets;
  }

  get id(): string {
    return this.#scenario.id;
  }

  async run(): Promise<ScenarioResult> {
    const observations: Observation[] = [];
    const aliases = new Set<string>();
    let aborted: string | null = null;
    for (const [i, raw] of this.#scenario.steps.entries()) {
      const n = i + 1;
      const where = `step ${n} (${String(isObject(raw) ? raw['do'] : raw)})`;
      try {
        checkStep(raw, aliases);
      } catch (err) {
        aborted = `${where}: ${(err as Error).message}`;
        break;
      }
      const step = raw;
      const obs: Observation = { step: n, do: step.do };
      try {
        const out = await this.#step(step);
        if (!out.background) obs.error = null;
        if ('value' in out) obs.value = toJSON(out.value);
        if (out.text !== undefined) obs.text = out.text;
      } catch (err) {
        // A step the runner cannot carry out as written, or one that needs what a
        // failed step would have made: the scenario cannot go on.
        if (err instanceof ScenarioError || err instanceof MissingResult) {
          aborted = `${where}: ${err.message}`;
          break;
        }
        obs.error = {
          kind: kindOf(err),
          status: err instanceof APIError ? err.status : 0,
          code: err instanceof APIError ? (err.code ?? '') : '',
          message: this.#redact(messageOf(err)),
        };
        if (step.expect_error !== obs.error.kind) process.stderr.write(`${this.id} ${where}: ${obs.error.kind}: ${obs.error.message}\n`);
      }
      observations.push(obs);
    }
    // A background turn nobody awaited must not run into the next scenario.
    await Promise.allSettled(this.#background.values());
    return { id: this.id, observations, aborted };
  }

  #step(step: Step): Promise<Outcome> {
    const op = ops[step.do] as Op;
    const client = this.#clients[step.client ?? 'default'];
    const w = subst(step.with ?? {}, this.#runId) as JSONObject;
    // A hung call shows up as a failed step (an AbortError, kind untyped), not a stuck run.
    const bound = w['background'] === true ? BACKGROUND_TIMEOUT : STEP_TIMEOUT;
    return op.run({ run: this, step, w, client, o: { signal: AbortSignal.timeout(bound) } });
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (secret) out = out.replaceAll(secret, '[token]');
    return out;
  }

  /** The step's session, as seen by the step's client (another tenant's client addresses it by id). */
  session(step: Step, client: AgentSession): Session {
    const made = this.#sessions.get(step.session ?? '');
    if (!made) throw new MissingResult(`session ${JSON.stringify(step.session)} was not made (its step failed)`);
    return made.client === client ? made.session : client.sessions.handle(made.session.id);
  }

  keep(step: Step, session: Session, client: AgentSession): Session {
    if (step.as) this.#sessions.set(step.as, { session, client });
    return session;
  }

  keepFile(step: Step, file: FileInfo): FileInfo {
    if (step.as) this.#files.set(step.as, file);
    return file;
  }

  fileToken(alias: string): string {
    const f = this.#files.get(alias);
    if (!f) throw new MissingResult(`file ${JSON.stringify(alias)} was not uploaded (its step failed or it names no upload)`);
    return f.file_token;
  }

  /** `what`: `turn` or `stream`, the member of `await` that names it. */
  startBackground(what: 'turn' | 'stream', alias: string, work: Promise<Outcome>): void {
    work.catch(() => {}); // its outcome is observed by `await`
    this.#background.set(`${what}:${alias}`, work);
  }

  background(alias: string, what: string): Promise<Outcome> {
    const work = this.#background.get(`${what}:${alias}`);
    if (!work) throw new ScenarioError(`no background ${what} named ${JSON.stringify(alias)}`);
    return work;
  }

  /** The scenario's own members of every session it makes, merged into the step's `meta`. */
  meta(step: Step, w: JSONObject): JSONObject {
    const own = isObject(w['meta']) ? w['meta'] : {};
    const alias = step.as === undefined ? {} : { alias: step.as }; // a step without `as` sends no alias
    return { ...own, scenario: this.id, ...alias, run: this.#runId };
  }
}

interface OpContext {
  run: ScenarioRun;
  step: Step;
  w: JSONObject;
  client: AgentSession;
  /** Every SDK call of the step takes these: the step's wall-time bound, as a signal. */
  o: RequestOptions;
}

interface Op {
  /** The `with` members the operation takes. */
  args: string[];
  /** Whether the operation addresses the step's session. */
  session: boolean;
  run(c: OpContext): Promise<Outcome>;
}

const TURN_ARGS = ['prompt', 'script', 'prompt_size', 'files', 'timeout_ms', 'busy_policy', 'idempotency_key', 'meta'];

/** Only the members given (an absent member stays absent on the wire). */
function pick(w: JSONObject, keys: string[]): JSONObject {
  const out: JSONObject = {};
  for (const k of keys) if (w[k] !== undefined) out[k] = w[k];
  return out;
}

/**
 * A request body of the SDK's type T from the step's members: the scenario is
 * data, so its members are passed as they are and the server judges them (a
 * wrong one is a validation error, as for any caller).
 */
function body<T>(w: JSONObject, keys: string[], extra: JSONObject = {}): T {
  return { ...pick(w, keys), ...extra } as unknown as T;
}

function sessionOp(args: string[], run: (s: Session, c: OpContext) => Promise<Outcome>): Op {
  return { args, session: true, run: (c) => run(c.run.session(c.step, c.client), c) };
}

const value = (v: unknown): Outcome => ({ value: v });
const info = (s: Session): Outcome => ({ value: s.info });
async function items<T>(list: AsyncIterable<T>, map: (t: T) => unknown = (t) => t): Promise<Outcome> {
  const out: unknown[] = [];
  for await (const item of list) out.push(map(item)); // the SDK's iterator follows every page
  return { value: { items: out } };
}

/** The prompt of a turn step: `prompt`, an AgentScript as its JSON, or `prompt_size` x's. */
function prompt(w: JSONObject): string {
  if (typeof w['prompt'] === 'string') return w['prompt'];
  // Sorted keys and no spaces, so that every runner sends the same prompt text.
  if (w['script'] !== undefined) return canonicalJSON(w['script']);
  if (typeof w['prompt_size'] === 'number') return 'x'.repeat(w['prompt_size']);
  throw new ScenarioError('a turn needs prompt, script or prompt_size');
}

function turnOptions(c: OpContext): TurnOptions {
  const { w } = c;
  const o: TurnOptions = { ...c.o };
  if (Array.isArray(w['files'])) o.files = w['files'].map((alias) => c.run.fileToken(String(alias)));
  if (typeof w['timeout_ms'] === 'number') o.turnTimeout = w['timeout_ms'];
  if (typeof w['busy_policy'] === 'string') o.busyPolicy = w['busy_policy'] as BusyPolicy;
  if (typeof w['idempotency_key'] === 'string') o.idempotencyKey = w['idempotency_key'];
  if (isObject(w['meta'])) o.meta = w['meta'];
  if (typeof w['on_permission'] === 'string') {
    const optionId = w['on_permission'];
    o.onPermission = () => optionId;
  }
  return o;
}

const turnOutcome = (r: TurnResult): Outcome => ({ value: r, text: r.text() });

const ops: Record<string, Op> = {
  health: { args: [], session: false, run: async ({ client, o }) => value(await client.health(o)) },
  capabilities: { args: [], session: false, run: async ({ client, o }) => value(await client.capabilities(o)) },
  create_session: {
    args: ['agent', 'meta', 'plan_slug', 'context', 'agent_options'],
    session: false,
    run: async ({ run, step, w, client, o }) => {
      const params = body<CreateSessionParams>(w, ['agent', 'plan_slug', 'context', 'agent_options'], { meta: run.meta(step, w) });
      return info(run.keep(step, await client.sessions.create(params, o), client));
    },
  },
  get_session: {
    args: ['session_id'],
    session: true,
    run: async ({ run, step, w, client, o }) => {
      const id = typeof w['session_id'] === 'string' ? w['session_id'] : run.session(step, client).id;
      return info(await client.sessions.get(id, o));
    },
  },
  list_sessions: {
    args: ['status', 'agent', 'plan_slug', 'limit'],
    session: false,
    run: ({ w, client, o }) =>
      items(client.sessions.list(body<ListSessionsParams>(w, ['status', 'agent', 'plan_slug', 'limit']), o), (s) => s.info),
  },
  // By id, so that every close is a request: the server's answer says whether it
  // was already closed (a Session handle answers a second close itself).
  close_session: sessionOp([], async (s, { client, o }) => value(await client.sessions.close(s.id, o))),
  turn: {
    args: [...TURN_ARGS, 'background', 'on_permission'],
    session: true,
    run: async (c) => {
      const s = c.run.session(c.step, c.client);
      const start = (): Promise<Outcome> => s.turn(prompt(c.w), turnOptions(c)).then(turnOutcome);
      if (c.w['background'] !== true) return start();
      if (!c.step.as) throw new ScenarioError('a background turn needs `as`');
      c.run.startBackground('turn', c.step.as, start());
      return { background: true };
    },
  },
  turn_stream: sessionOp([...TURN_ARGS, 'answer'], async (s, c) => {
    const stream = s.turnStream(prompt(c.w), turnOptions(c));
    const answer = typeof c.w['answer'] === 'string' ? c.w['answer'] : undefined;
    const events: TurnEvent[] = [];
    for await (const e of stream) {
      events.push(e);
      // Answered through the event's own method; the loop then reads on in the same turn.
      if (answer !== undefined && isPermissionRequest(e)) await e.answer(answer, c.o);
    }
    const result = await stream.result();
    return { value: { events, result }, text: result.text() };
  }),
  await: {
    args: ['turn', 'stream'],
    session: false,
    run: ({ run, w }) => {
      if (typeof w['stream'] === 'string') return run.background(w['stream'], 'stream');
      return run.background(String(w['turn']), 'turn');
    },
  },
  cancel: sessionOp([], async (s, { o }) => value(await s.cancel(o))),
  wait_activity: sessionOp(['activity', 'queued_turns', 'timeout_ms'], async (s, { w, client, o }) => {
    const want = typeof w['activity'] === 'string' ? w['activity'] : undefined;
    const queued = typeof w['queued_turns'] === 'number' ? w['queued_turns'] : undefined;
    if (want === undefined && queued === undefined) throw new ScenarioError('wait_activity needs activity or queued_turns');
    const timeout = typeof w['timeout_ms'] === 'number' ? w['timeout_ms'] : 5000;
    const deadline = Date.now() + timeout;
    for (;;) {
      const got = await client.sessions.get(s.id, o);
      const i = got.info;
      if ((want === undefined || i?.activity === want) && (queued === undefined || i?.queued_turns === queued)) return info(got);
      if (Date.now() >= deadline) {
        throw new WaitTimeout(`after ${timeout} ms activity is ${i?.activity} and queued_turns ${i?.queued_turns}, not ${want ?? '(any)'} and ${queued ?? '(any)'}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }),
  history: sessionOp(['status'], (s, { w, o }) => items(s.history(body<ListTurnsParams>(w, ['status']), o))),
  answer_permission: sessionOp(['request_id', 'option_id'], async (s, { w, o }) =>
    value(await s.answerPermission(String(w['request_id']), String(w['option_id']), o)),
  ),
  permissions: sessionOp(['status'], (s, { w, o }) => items(s.permissions(body<ListPermissionsParams>(w, ['status']), o))),
  cancel_turn: sessionOp(['turn_index'], async (s, { w, o }) => {
    if (typeof w['turn_index'] !== 'number') throw new ScenarioError('cancel_turn needs a numeric turn_index');
    return value(await s.cancelTurn(w['turn_index'], o));
  }),
  lifecycle_events: sessionOp(['after'], (s, { w, o }) => items(s.lifecycleEvents(body<ListLifecycleEventsParams>(w, ['after']), o))),
  session_stream: sessionOp(['after', 'background'], async (s, c) => {
    const after = c.w['after'] === undefined ? undefined : String(c.w['after']);
    const read = async (): Promise<Outcome> => {
      const frames: unknown[] = [];
      let session: unknown;
      for await (const item of s.stream({ ...c.o, after }) as AsyncIterable<SessionStreamItem>) {
        if (item.type === 'event') frames.push({ event: item.event });
        else if (item.type === 'lifecycle') frames.push({ lifecycle: item.lifecycle });
        else session = item.session;
      }
      return { value: { frames, session } };
    };
    if (c.w['background'] !== true) return read();
    if (!c.step.as) throw new ScenarioError('a background session_stream needs `as`');
    c.run.startBackground('stream', c.step.as, read());
    return { background: true };
  }),
  events: sessionOp(['after'], (s, { w, o }) => items(s.events(body<ListEventsParams>(w, ['after']), o))),
  pause: sessionOp([], async (s, { o }) => value(await s.pause(o))),
  resume: sessionOp([], async (s, { o }) => value(await s.resume(o))),
  end: sessionOp(['status', 'summary'], async (s, { w, o }) => value(await s.end(body<EndSessionParams>(w, ['status', 'summary']), o))),
  continue: sessionOp(['agent', 'meta', 'plan_slug'], async (s, { run, step, w, client, o }) => {
    const params = body<ContinueSessionParams>(w, ['agent', 'plan_slug'], { meta: run.meta(step, w) });
    return info(run.keep(step, await s.continue(params, o), client));
  }),
  handoff: sessionOp(['summary', 'next_steps', 'blockers', 'context_for_next'], async (s, { w, o }) =>
    value(await s.handoff(body<HandoffParams>(w, ['summary', 'next_steps', 'blockers', 'context_for_next']), o)),
  ),
  handoff_context: sessionOp([], async (s, { o }) => value(await s.handoffContext(o))),
  log: sessionOp(['type', 'message', 'message_size', 'data'], async (s, { w, o }) => {
    const size = w['message'] === undefined && typeof w['message_size'] === 'number' ? { message: 'x'.repeat(w['message_size']) } : {};
    return value(await s.log(body<LogEntryParams>(w, ['type', 'message', 'data'], size), o));
  }),
  log_entries: sessionOp(['type', 'order'], (s, { w, o }) => items(s.listLog(body<ListLogParams>(w, ['type', 'order']), o))),
  add_artifact: sessionOp(['path', 'action', 'metadata'], async (s, { w, o }) =>
    value(await s.addArtifact(body<ArtifactParams>(w, ['path', 'action', 'metadata']), o)),
  ),
  artifacts: sessionOp(['action'], (s, { w, o }) => items(s.artifacts(body<ListArtifactsParams>(w, ['action']), o))),
  update_context: sessionOp(['patch'], async (s, { w, o }) => value(await s.updateContext((w['patch'] ?? {}) as ContextPatch, o))),
  replay_context: sessionOp([], async (s, { o }) => value(await s.replayContext(o))),
  replay: sessionOp(['agent', 'meta'], async (s, { run, step, w, client, o }) => {
    const params = body<ReplaySessionParams>(w, ['agent'], { meta: run.meta(step, w) });
    return info(run.keep(step, await s.replay(params, o), client));
  }),
  spawn: sessionOp(['agent', 'meta'], async (s, { run, step, w, client, o }) => {
    const params = body<CreateSessionParams>(w, ['agent'], { meta: run.meta(step, w) });
    return info(run.keep(step, await s.spawn(params, o), client));
  }),
  children: sessionOp([], (s, { o }) => items(s.children({}, o), (child) => child.info)),
  upload: {
    args: ['filename', 'content_type', 'content'],
    session: false,
    run: async ({ run, step, w, client, o }) => {
      const bytes = new TextEncoder().encode(String(w['content'] ?? ''));
      const opts: UploadOptions = { ...o };
      if (typeof w['filename'] === 'string') opts.filename = w['filename'];
      if (typeof w['content_type'] === 'string') opts.contentType = w['content_type'];
      return value(run.keepFile(step, await client.files.upload(bytes, opts)));
    },
  },
};

// --- helpers

function isObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Replaces `${run}` in every string of v (keys excepted). */
function subst(v: unknown, run: string): unknown {
  if (typeof v === 'string') return v.replaceAll('${run}', run);
  if (Array.isArray(v)) return v.map((x) => subst(x, run));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, subst(x, run)]));
  return v;
}

/** JSON with object keys sorted at every level, without spaces. */
function canonicalJSON(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (isObject(x)) return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort(x[k])]));
    return x;
  };
  return JSON.stringify(sort(v));
}

/** The wire JSON of what the SDK returned: its enumerable members, unknown ones included. */
function toJSON(v: unknown): unknown {
  return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown);
}

function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== err.message ? `${err.message} (${cause.message})` : err.message;
}

// --- the command line

const USAGE =
  'usage: node build/scenarios/runner.js --base-url URL --token TOKEN --token2 TOKEN2 --run RUN_ID --scenarios DIR --out FILE [--only ID]';

function commandLine(argv: string[]): { baseURL: string; token: string; token2: string; run: string; dir: string; out: string; only?: string } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'base-url': { type: 'string' },
      token: { type: 'string' },
      token2: { type: 'string' },
      run: { type: 'string' },
      scenarios: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const need = (k: 'base-url' | 'token' | 'token2' | 'run' | 'scenarios' | 'out'): string => {
    const v = values[k];
    if (!v) throw new Error(`--${k} is required`);
    return v;
  };
  const args = { baseURL: need('base-url'), token: need('token'), token2: need('token2'), run: need('run'), dir: need('scenarios'), out: need('out') };
  return values.only === undefined ? args : { ...args, only: values.only };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof commandLine>;
  let files: string[];
  try {
    args = commandLine(process.argv.slice(2));
    files = readdirSync(args.dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => join(args.dir, f));
    if (args.only !== undefined && !files.some((f) => basename(f, '.yaml') === args.only)) {
      throw new Error(`no scenario ${args.only}.yaml in ${args.dir}`);
    }
    new URL(args.baseURL);
  } catch (err) {
    process.stderr.write(`${messageOf(err)}\n${USAGE}\n`);
    return 2;
  }
  // Default options (retries on). New clients for each scenario, as a program
  // of its own would have: a scenario's outcome must not depend on the ones
  // before it (the retry budget they spent, the turns they left), nor on --only.
  const clientsFor = (): Record<ClientName, AgentSession> => ({
    default: new AgentSession({ baseURL: args.baseURL, token: args.token }),
    other_tenant: new AgentSession({ baseURL: args.baseURL, token: args.token2 }),
    bad_token: new AgentSession({ baseURL: args.baseURL, token: 'not-a-token-the-server-knows' }),
  });
  const results: ScenarioResult[] = [];
  for (const file of files) {
    if (args.only !== undefined && basename(file, '.yaml') !== args.only) continue;
    let scenario: Scenario;
    try {
      scenario = readScenario(file);
    } catch (err) {
      results.push({ id: basename(file, '.yaml'), observations: [], aborted: `${basename(file)}: ${messageOf(err)}` });
      continue;
    }
    const result = await new ScenarioRun(scenario, args.run, clientsFor(), [args.token, args.token2]).run();
    const failed = result.observations.filter((o) => o.error).length;
    process.stdout.write(`${result.id}: ${result.observations.length} steps, ${failed} failed${result.aborted ? `, aborted: ${result.aborted}` : ''}\n`);
    results.push(result);
  }
  try {
    writeFileSync(args.out, `${JSON.stringify({ sdk: SDK_NAME, sdk_version: VERSION, run: args.run, scenarios: results }, null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`cannot write ${args.out}: ${messageOf(err)}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
