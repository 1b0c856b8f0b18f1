import { AgentSessionError } from './errors.js';

/** One page of a list. */
export interface Page<T> {
  items: T[];
  /** Pass to the next request as `cursor`; undefined on the last page. */
  nextCursor: string | undefined;
}

/** Fetches the page after `cursor` (undefined: the first page). */
export type PageFetcher<T> = (cursor: string | undefined) => Promise<Page<T>>;

/**
 * A list that fetches its pages as a `for await` loop goes (nothing is sent
 * before the loop starts):
 *
 * ```ts
 * for await (const session of client.sessions.list({ status: 'active' })) { ... }
 * ```
 *
 * `await list.firstPage()` gives one page; `pages()` iterates page by page.
 * A server that hands back a cursor it already gave ends the loop with an
 * error instead of looping forever.
 */
export class PageIterator<T> implements AsyncIterable<T> {
  readonly #fetch: PageFetcher<T>;

  constructor(fetch: PageFetcher<T>) {
    this.#fetch = fetch;
  }

  /** The first page. */
  firstPage(): Promise<Page<T>> {
    return this.#fetch(undefined);
  }

  /** Every page, in order. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (;;) {
      const page = await this.#fetch(cursor);
      yield page;
      const next = page.nextCursor;
      if (!next) return;
      if (seen.has(next)) {
        throw new AgentSessionError(`the server repeated the cursor ${JSON.stringify(next.slice(0, 80))}: the list would never end`);
      }
      seen.add(next);
      cursor = next;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every item in one array (reads all the pages). */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(item);
    return out;
  }
}
