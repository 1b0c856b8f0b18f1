import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSSE, SSEParser, type SSEFrame } from '../../src/index.js';
import { isCutJSON } from '../../src/internal/json.js';

function parse(text: string): SSEFrame[] {
  const p = new SSEParser();
  return p.push(text);
}

async function readChunks(chunks: Uint8Array[]): Promise<SSEFrame[]> {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(ch);
      c.close();
    },
  });
  const out: SSEFrame[] = [];
  for await (const f of readSSE(body)) out.push(f);
  return out;
}

const sample =
  '\uFEFFevent: turn.accepted\r\ndata: {"turn_index":3}\r\n\r\n' +
  ': keep-alive\r\n\r\n' +
  'id: 41\ndata: {"seq":41,\ndata: "content":"héllo ✓"}\n\n' +
  'id: 42\rdata: second\r\r' +
  'event: turn.completed\ndata:{"last_seq":42}\nretry: 1500\n\n';

const expected: SSEFrame[] = [
  { event: 'turn.accepted', data: '{"turn_index":3}', id: undefined, retry: undefined },
  { event: '', data: '{"seq":41,\n"content":"héllo ✓"}', id: '41', retry: undefined },
  { event: '', data: 'second', id: '42', retry: undefined },
  { event: 'turn.completed', data: '{"last_seq":42}', id: undefined, retry: 1500 },
];

describe('SSE parser', () => {
  it('reads CRLF, LF and lone CR line ends, comments, multi-line data, id, event, retry and a BOM', async () => {
    assert.deepEqual(await readChunks([new TextEncoder().encode(sample)]), expected);
  });

  it('gives the same frames whatever the chunk boundaries (every split point, multi-byte characters and CRLF included)', async () => {
    const bytes = new TextEncoder().encode(sample);
    for (let i = 1; i < bytes.length; i++) {
      const got = await readChunks([bytes.slice(0, i), bytes.slice(i)]);
      assert.deepEqual(got, expected, `split at byte ${i}`);
    }
    // and one byte at a time
    assert.deepEqual(await readChunks(Array.from(bytes, (b) => Uint8Array.of(b))), expected);
  });

  it('a CR at the end of one chunk and LF at the start of the next is one line end', () => {
    const p = new SSEParser();
    assert.deepEqual(p.push('data: a\r'), []);
    assert.deepEqual(p.push(''), []);
    assert.deepEqual(p.push('\ndata: b\r'), []);
    assert.deepEqual(p.push('\n\r\n'), [{ event: '', data: 'a\nb', id: undefined, retry: undefined }]);
  });

  it('drops a frame cut before its blank line, and frames without data', async () => {
    assert.deepEqual(await readChunks([new TextEncoder().encode('id: 1\ndata: whole\n\nid: 2\ndata: cut')]), [
      { event: '', data: 'whole', id: '1', retry: undefined },
    ]);
    assert.deepEqual(parse('event: x\nid: 5\n\n: only a comment\n\n'), []);
  });

  it('follows the field rules', () => {
    assert.deepEqual(parse('data\n\n'), [{ event: '', data: '', id: undefined, retry: undefined }], 'a field with no colon');
    assert.deepEqual(parse('data:no space\n\n')[0]?.data, 'no space');
    assert.deepEqual(parse('data:  two spaces\n\n')[0]?.data, ' two spaces', 'only one space is stripped');
    assert.equal(parse('id: a\0b\ndata: x\n\n')[0]?.id, undefined, 'an id with NUL is ignored');
    assert.equal(parse('retry: 12s\ndata: x\n\n')[0]?.retry, undefined, 'retry takes digits only');
    assert.deepEqual(parse('foo: bar\ndata: x\n\n')[0]?.data, 'x', 'unknown fields are ignored');
    const p = new SSEParser();
    p.push(': keep-alive\n\n: keep-alive\n\n');
    assert.equal(p.comments, 2);
  });

  it('cancels the body when the loop stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const f of readSSE(body)) {
      assert.equal(f.data, 'x');
      break;
    }
    assert.ok(cancelled);
  });

  it('passes a read error on', async () => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ === 0) c.enqueue(new TextEncoder().encode('data: x\n\ndata: y'));
        else c.error(new TypeError('terminated'));
      },
    });
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const f of readSSE(body)) seen.push(f.data);
    }, /terminated/);
    assert.deepEqual(seen, ['x']);
  });
});

describe('cut JSON', () => {
  it('tells a body cut mid-value from a wrong one', () => {
    for (const cut of ['', ' ', '{', '{"a"', '{"a":', '{"a":1', '{"a":1,', '{"a":"x\\', '{"a":"\\u00', '[1,2', '{"a":tr', '{"a":-', '{"a":1.5e', '[{"b":[null,', '"abc']) {
      assert.equal(isCutJSON(cut), true, JSON.stringify(cut));
    }
    for (const bad of ['<html>', '{"a":1}x', '{"a" 1', '{a:1}', '[1,,2', '{"a":"\\x"}', '{"a":nul}', '{"a":1.}', '{"a":01}', '}', '{"a":1]']) {
      assert.equal(isCutJSON(bad), false, JSON.stringify(bad));
    }
  });
});
