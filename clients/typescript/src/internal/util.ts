// Small helpers with no dependency beyond the web platform.

let webCrypto: Crypto | undefined;

/** A random UUID (v4): crypto.randomUUID where it exists (secure contexts), else from getRandomValues. */
export function uuid(): string {
  // Looked up once: in Node the global `crypto` is a getter.
  const c = (webCrypto ??= (globalThis as { crypto?: Crypto }).crypto);
  if (c?.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(b);
  else throw new Error('agentsession: no crypto.getRandomValues to make an idempotency key');
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An environment variable where an environment exists (Node, Deno, Bun); never in browsers. */
export function readEnv(name: string): string | undefined {
  try {
    const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: { env?: { get?(n: string): string | undefined } } };
    const v = g.process?.env?.[name] ?? g.Deno?.env?.get?.(name);
    return v?.trim() || undefined;
  } catch {
    return undefined; // Deno without --allow-env throws
  }
}

/** Waits `ms`, or rejects with `onAbort()` when the signal fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, onAbort: () => unknown): Promise<void> {
  if (signal?.aborted) return Promise.reject(onAbort());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const abort = (): void => {
      clearTimeout(timer);
      reject(onAbort());
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
