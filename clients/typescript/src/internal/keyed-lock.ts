// FIFO locks by key, for the per-session ordering of turns: the order in
// which callers ask is the order in which they hold the lock; different keys
// never wait for each other. A waiter whose signal aborts leaves the queue
// without disturbing the others.

type Waiter = { grant: () => void };

/** The holder that took a free lock with tryAcquire: nobody waits on it to be granted. */
const TAKEN: Waiter = { grant: () => {} };

export class KeyedLock {
  #queues = new Map<string, Waiter[]>(); // head = the holder

  /**
   * Takes the lock of `key` at once when nobody holds it or waits for it, and
   * returns its release function; otherwise undefined (then `acquire`). The
   * common case, a session with no other turn in flight, costs no promise.
   */
  tryAcquire(key: string): (() => void) | undefined {
    if (this.#queues.has(key)) return undefined;
    const q = [TAKEN];
    this.#queues.set(key, q);
    return this.#releaser(key, q, TAKEN);
  }

  /**
   * Joins the queue of `key` at once (synchronously, so call order is queue
   * order) and resolves with a release function when it is this caller's turn.
   */
  acquire(key: string, signal?: AbortSignal, onAbort?: () => unknown): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(onAbort ? onAbort() : signal.reason);
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = [];
      this.#queues.set(key, queue);
    }
    const q = queue;
    return new Promise((resolve, reject) => {
      const abort = (): void => {
        if (q[0] === waiter) return; // already holding: the holder releases
        release();
        reject(onAbort ? onAbort() : signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', abort);
          resolve(release);
        },
      };
      const release = this.#releaser(key, q, waiter);
      q.push(waiter);
      if (q.length === 1) waiter.grant();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Removes `waiter` from the queue (once), granting the lock to the next when it held it. */
  #releaser(key: string, q: Waiter[], waiter: Waiter): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const i = q.indexOf(waiter);
      if (i >= 0) q.splice(i, 1);
      if (i === 0) q[0]?.grant();
      if (q.length === 0 && this.#queues.get(key) === q) this.#queues.delete(key);
    };
  }

  /** Keys with a holder or waiters (for tests). */
  get size(): number {
    return this.#queues.size;
  }
}
