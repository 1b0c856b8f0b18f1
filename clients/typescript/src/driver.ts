// A programmatic entry for a cross-language scenario runner
// (`@agentsession/sdk/driver`): scenario steps as plain data in, plain JSON
// out, and every failure described the same way (the error's class and its
// status, code and attempts), so the answers of several SDKs can be compared.
import { AgentSession } from './client.js';
import type { ClientOptions, RequestOptions } from './core.js';
import { AgentSessionError, APIError, TransportError, StreamLostError } from './errors.js';
import { Session } from './resources/sessions.js';
import { TurnResult } from './turn.js';

/** One step. `session` names a session made by an earlier step's `as`. */
export interface Step {
  op: string;
  session?: string;
  /** Name the session this step returns (create, get, spawn, continue, replay). */
  as?: string;
  args?: Record<string, unknown>;
  /** Run without waiting; a later `{ op: 'await', args: { name } }` gives its result. */
  background?: string;
}

/** A failure, the same in every SDK: class name, HTTP status and problem code when there was an answer. */
export interface ErrorInfo {
  class: string;
  status?: number;
  code?: string;
  attempts?: number;
  retryAfter?: number;
  message: string;
}

export type StepResult = { ok: true; value: unknown } | { ok: false; error: ErrorInfo };

export function describeError(err: unknown): ErrorInfo {
  const info: ErrorInfo = { class: err instanceof Error ? err.name : typeof err, message: err instanceof Error ? err.message : String(err) };
  if (err instanceof APIError) {
    info.status = err.status;
    if (err.code !== undefined) info.code = err.code;
    info.attempts = err.attempts;
    if (err.retryAfter !== undefined) info.retryAfter = err.retryAfter;
  } else if (err instanceof TransportError) {
    info.attempts = err.attempts;
  } else if (err instanceof StreamLostError) {
    info.attempts = err.resumes + 1;
  }
  return info;
}

/** Plain JSON of what a step returned: sessions as their info, turns with their text. */
function plain(v: unknown): unknown {
  if (v instanceof Session) return v.info ?? { session_id: v.id };
  if (v instanceof TurnResult) return { ...v, text: v.text() };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

type Op = (d: Driver, s: Session | undefined, a: Record<string, unknown>, o: RequestOptions) => Promise<unknown>;

const need = (s: Session | undefined): Session => {
  if (!s) throw new AgentSessionError('this step needs a `session`');
  return s;
};
const str = (a: Record<string, unknown>, k: string): string => String(a[k] ?? '');
const obj = <T>(a: Record<string, unknown>, k: string): T => (a[k] ?? {}) as T;

const ops: Record<string, Op> = {
  health: (d, _s, _a, o) => d.client.health(o),
  capabilities: (d, _s, _a, o) => d.client.capabilities(o),
  create: (d, _s, a, o) => d.client.sessions.create(obj(a, 'params'), o),
  get: (d, _s, a, o) => d.client.sessions.get(str(a, 'id'), o),
  list: (d, _s, a, o) => d.client.sessions.list(obj(a, 'params'), o).toArray(),
  refresh: (_d, s, _a, o) => need(s).refresh(o),
  close: (_d, s, _a, o) => need(s).close(o),
  turn: (_d, s, a, o) => need(s).turn(str(a, 'prompt'), { ...o, ...obj(a, 'options') }),
  turnStream: async (_d, s, a, o) => {
    const st = need(s).turnStream(str(a, 'prompt'), { ...o, ...obj(a, 'options') });
    const seqs: number[] = [];
    for await (const ev of st) seqs.push(ev.seq);
    return { seqs, resumes: st.resumes, result: plain(await st.result()) };
  },
  cancel: (_d, s, _a, o) => need(s).cancel(o),
  pause: (_d, s, _a, o) => need(s).pause(o),
  resume: (_d, s, _a, o) => need(s).resume(o),
  end: (_d, s, a, o) => need(s).end(obj(a, 'params'), o),
  handoff: (_d, s, a, o) => need(s).handoff(obj(a, 'params'), o),
  handoffContext: (_d, s, _a, o) => need(s).handoffContext(o),
  continue: (_d, s, a, o) => need(s).continue(obj(a, 'params'), o),
  log: (_d, s, a, o) => need(s).log(obj(a, 'params'), o),
  listLog: (_d, s, a, o) => need(s).listLog(obj(a, 'params'), o).toArray(),
  addArtifact: (_d, s, a, o) => need(s).addArtifact(obj(a, 'params'), o),
  artifacts: (_d, s, a, o) => need(s).artifacts(obj(a, 'params'), o).toArray(),
  updateContext: (_d, s, a, o) => need(s).updateContext(obj(a, 'patch'), o),
  replayContext: (_d, s, _a, o) => need(s).replayContext(o),
  replay: (_d, s, a, o) => need(s).replay(obj(a, 'params'), o),
  spawn: (_d, s, a, o) => need(s).spawn(obj(a, 'params'), o),
  children: (_d, s, a, o) => need(s).children(obj(a, 'params'), o).toArray(),
  history: (_d, s, a, o) => need(s).history(obj(a, 'params'), o).toArray(),
  events: (_d, s, a, o) => need(s).events(obj(a, 'params'), o).toArray(),
  upload: (d, _s, a, o) =>
    d.client.files.upload(new TextEncoder().encode(str(a, 'content')), { ...o, filename: str(a, 'filename') || 'file.txt' }),
};

/** Runs scenario steps against one client, keeping named sessions and background steps. */
export class Driver {
  readonly client: AgentSession;
  readonly #sessions = new Map<string, Session>();
  readonly #background = new Map<string, Promise<StepResult>>();

  constructor(options: ClientOptions | AgentSession) {
    this.client = options instanceof AgentSession ? options : new AgentSession(options);
  }

  /** The operations a step may name. */
  static get ops(): string[] {
    return [...Object.keys(ops), 'await'];
  }

  run(step: Step): Promise<StepResult> {
    const p = this.#run(step);
    if (step.background) {
      this.#background.set(step.background, p);
      return Promise.resolve({ ok: true, value: { background: step.background } });
    }
    return p;
  }

  async #run(step: Step): Promise<StepResult> {
    try {
      const args = step.args ?? {};
      if (step.op === 'await') {
        const p = this.#background.get(str(args, 'name'));
        if (!p) throw new AgentSessionError(`no background step named ${str(args, 'name')}`);
        return await p;
      }
      const op = ops[step.op];
      if (!op) throw new AgentSessionError(`unknown op ${JSON.stringify(step.op)}; known: ${Driver.ops.join(', ')}`);
      let session: Session | undefined;
      if (step.session !== undefined) {
        session = this.#sessions.get(step.session);
        if (!session) throw new AgentSessionError(`no session named ${step.session}`);
      }
      const value = await op(this, session, args, obj<RequestOptions>(args, 'request'));
      if (step.as && value instanceof Session) this.#sessions.set(step.as, value);
      return { ok: true, value: plain(value) };
    } catch (err) {
      return { ok: false, error: describeError(err) };
    }
  }
}
