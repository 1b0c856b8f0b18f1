// A server-sent events parser over a web ReadableStream, following the
// WHATWG "event stream interpretation" rules: lines end with CRLF, LF or a
// lone CR (also when the CR and LF arrive in different chunks); `:` starts a
// comment; `data` lines join with LF; `id` without NUL sets the frame's id;
// `retry` takes digits only; a frame without data is not dispatched; a frame
// cut before its blank line is dropped.

/** One dispatched frame. */
export interface SSEFrame {
  /** The `event` field; '' for an unnamed frame (the spec's "message"). */
  event: string;
  /** The `data` lines joined with LF. */
  data: string;
  /** The frame's own `id` field, undefined when it had none. */
  id: string | undefined;
  /** The `retry` field (milliseconds), undefined when it had none. */
  retry: number | undefined;
}

/** Incremental parser: push decoded text, take the frames completed so far. */
export class SSEParser {
  #buf = '';
  #lastWasCR = false;
  #data: string[] = [];
  #event = '';
  #id: string | undefined = undefined;
  #retry: number | undefined = undefined;
  /** Comment lines seen (keep-alives), for idle detection and tests. */
  comments = 0;

  /** Feeds text; returns the frames it completed. */
  push(text: string): SSEFrame[] {
    const out: SSEFrame[] = [];
    if (text === '') return out;
    let s = text;
    if (this.#lastWasCR && s.startsWith('\n')) s = s.slice(1); // the LF of a CRLF split across chunks
    this.#lastWasCR = false;
    let start = 0;
    const buf = this.#buf + s;
    const offset = this.#buf.length;
    // Search only the new text for line ends: the buffered part has none.
    for (let i = offset; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(buf.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#lastWasCR = true;
        }
      }
      start = i + 1;
    }
    this.#buf = buf.slice(start);
    return out;
  }

  #line(line: string, out: SSEFrame[]): void {
    if (line === '') {
      if (this.#data.length > 0) {
        out.push({ event: this.#event, data: this.#data.join('\n'), id: this.#id, retry: this.#retry });
      }
      this.#data = [];
      this.#event = '';
      this.#id = undefined;
      this.#retry = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }
}

/**
 * Yields the frames of an event stream body as they complete. Returning early
 * (a `break` in `for await`) cancels the body. A read error (a reset
 * connection, an abort) is thrown as it comes; a body that ends in the middle
 * of a frame drops that frame.
 */
export async function* readSSE(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
  parser = new SSEParser(),
): AsyncGenerator<SSEFrame> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8'); // strips a leading BOM, as the spec asks
  let done = false;
  // Cancelling the reader ends a pending read even when the fetch in use does
  // not tie the body to the request's signal.
  const onAbort = (): void => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const r = await reader.read();
      if (signal?.aborted) throw abortReason(signal);
      if (r.done) {
        done = true;
        const rest = decoder.decode();
        if (rest) yield* parser.push(rest);
        return;
      }
      const frames = parser.push(decoder.decode(r.value, { stream: true }));
      for (const f of frames) yield f;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
