import { APIClient, type ClientOptions, type RequestOptions } from './core.js';
import { KeyedLock } from './internal/keyed-lock.js';
import { Files } from './resources/files.js';
import { Sessions, type Host } from './resources/sessions.js';
import type { Capabilities, Health } from './types.js';

/**
 * A client of an Agent Session API server. Make one and share it: it holds
 * the retry budget and the per-session order of turns.
 *
 * ```ts
 * const client = new AgentSession(); // AGENTSESSION_BASE_URL, AGENTSESSION_TOKEN
 * const session = await client.sessions.create({ agent: 'echo' });
 * const result = await session.turn('Hello');
 * console.log(result.text());
 * ```
 */
export class AgentSession extends APIClient {
  /** Sessions: create, get, list, close; each returns a Session handle. */
  readonly sessions: Sessions;
  /** Files: upload, get. */
  readonly files: Files;
  /** One queue per session id: turns sent without a busy policy keep their call order. */
  readonly turnOrder = new KeyedLock();

  constructor(options: ClientOptions = {}) {
    super(options);
    this.files = new Files(this);
    const host: Host = { client: this, turnOrder: this.turnOrder, files: this.files };
    this.sessions = new Sessions(host);
  }

  /** Whether the server is up (no token needed). */
  async health(options?: RequestOptions): Promise<Health> {
    return (await this.request<Health>({ method: 'GET', path: 'v1/health', options })).data;
  }

  /** The server's agents, optional features and limits. */
  async capabilities(options?: RequestOptions): Promise<Capabilities> {
    return (await this.request<Capabilities>({ method: 'GET', path: 'v1/capabilities', options })).data;
  }
}
