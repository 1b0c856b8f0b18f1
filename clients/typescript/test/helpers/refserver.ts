// Starts the reference server (cmd/agentsession-server, built from this
// repository with `go build`) as a subprocess on an ephemeral port, with an
// in-memory store and two tenants; and other programs of cmd/ the same way.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The package directory (clients/typescript), from build/test/helpers. */
export const packageDir = resolve(here, '../../..');
export const repoDir = resolve(packageDir, '../..');

export const TOKENS = ['tok-a-7f3a9c1e', 'tok-b-2d8e4b60'] as const;

const built = new Map<string, string>();

/**
 * A binary of this repository's cmd/NAME: $ENV (make ts-test builds it), else
 * built once per test process (go's cache makes a rebuild cheap, and the
 * binary is never stale).
 */
export function goBinary(name: string, env: string): string {
  const fromEnv = process.env[env];
  if (fromEnv) return fromEnv;
  const done = built.get(name);
  if (done) return done;
  const bin = join(packageDir, 'build', 'bin', name);
  mkdirSync(dirname(bin), { recursive: true });
  // Build to a private name, then rename: test files that start at once never see half a binary.
  const tmp = `${bin}.${process.pid}.tmp`;
  execFileSync(process.env['GO'] ?? 'go', ['build', '-o', tmp, `./cmd/${name}`], { cwd: repoDir, stdio: 'inherit' });
  renameSync(tmp, bin);
  built.set(name, bin);
  return bin;
}

/** The reference server's binary ($AGENTSESSION_SERVER_BIN or built). */
export function serverBinary(): string {
  return goBinary('agentsession-server', 'AGENTSESSION_SERVER_BIN');
}

export interface RefServer {
  url: string;
  tokens: readonly string[];
  stop(): Promise<void>;
}

/** Starts a server; `args` adds flags (e.g. ['-max-children', '2']). */
export async function startServer(args: string[] = []): Promise<RefServer> {
  const p = await startListening(serverBinary(), ['-addr', '127.0.0.1:0', '-db', ':memory:', '-tokens', TOKENS.join(','), '-log-level', 'error', ...args]);
  return { url: p.url, tokens: TOKENS, stop: p.stop };
}

/** Starts a program that prints "listening on http://HOST:PORT" once it serves; `stop` ends it. */
export async function startListening(bin: string, args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`${bin} did not start: ${stderr}`)), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${bin} exited (${code}): ${stderr}`));
    });
  });
  return {
    url,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}
