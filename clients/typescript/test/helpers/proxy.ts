// A fault-injecting HTTP proxy for integration tests: it forwards to the
// reference server and, per request, can cut the answer after some bytes,
// cut an event stream after some events, or answer 503 itself.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'cutBytes'; after: number }
  | { kind: 'cutEvents'; after: number }
  | { kind: 'status'; status: number; headers?: Record<string, string> };

export interface Proxy {
  url: string;
  /** Requests seen, in order ("METHOD path"). */
  seen: string[];
  close(): Promise<void>;
}

export async function startProxy(target: string, fault: (req: IncomingMessage, n: number) => Fault): Promise<Proxy> {
  const up = new URL(target);
  const seen: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const socket = req.socket; // res.socket may be detached by the time the cut is due
    const f = fault(req, seen.length);
    if (f.kind === 'status') {
      req.resume();
      res.writeHead(f.status, { 'content-type': 'application/problem+json', ...f.headers });
      res.end(JSON.stringify({ type: 'about:blank', title: 'injected', status: f.status, code: 'injected', request_id: 'req_proxy' }));
      return;
    }
    const out = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        let bytes = 0;
        let text = '';
        upRes.on('data', (chunk: Buffer) => {
          if (res.destroyed) return;
          if (f.kind === 'cutBytes') {
            const room = f.after - bytes;
            bytes += chunk.length;
            if (room < chunk.length) {
              res.write(chunk.subarray(0, Math.max(0, room)));
              setTimeout(() => socket.destroy(), 5);
              upRes.destroy();
              return;
            }
          } else if (f.kind === 'cutEvents') {
            text += chunk.toString();
            const frames = text.split('\n\n');
            let events = 0;
            let keep = 0;
            for (let i = 0; i < frames.length - 1; i++) {
              keep += (frames[i] as string).length + 2;
              if (/^id: /m.test(frames[i] as string)) events++;
              if (events === f.after) {
                const sent = text.length - chunk.length;
                res.write(text.slice(sent, keep));
                setTimeout(() => socket.destroy(), 5);
                upRes.destroy();
                return;
              }
            }
          }
          res.write(chunk);
        });
        upRes.on('end', () => res.end());
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
