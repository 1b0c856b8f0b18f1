// The package's core uses only fetch and web streams, so it runs in browsers:
// nothing in dist imports a Node module, and without `process` the client
// reads no environment.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageDir } from '../helpers/refserver.js';

describe('runs in browsers', () => {
  it('dist imports nothing but itself', () => {
    const dist = join(packageDir, 'dist');
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    assert.ok(files.length > 5);
    for (const f of files) {
      const src = readFileSync(join(dist, f), 'utf8');
      for (const m of src.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1] ?? m[2] ?? '';
        assert.ok(spec.startsWith('./') || spec.startsWith('../'), `${f} imports ${spec}`);
      }
      assert.ok(!/\brequire\(/.test(src), `${f} uses require`);
    }
  });

  it('without process, no environment is read and the client still works with the fetch it is given', () => {
    const script = `
      globalThis.process = undefined;
      const { AgentSession } = await import(${JSON.stringify(join(packageDir, 'dist', 'index.js'))});
      let err = '';
      try { new AgentSession(); } catch (e) { err = e.message; }
      const fetch = async (url, init) => new Response(JSON.stringify({ status: 'ok', version: 'x', time: 't', url, auth: new Headers(init.headers).get('authorization') }), { status: 200 });
      const c = new AgentSession({ baseURL: 'https://api.example', token: 'tkn', fetch });
      const h = await c.health();
      console.log(JSON.stringify({ err, url: h.url, auth: h.auth }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, AGENTSESSION_BASE_URL: 'http://from-env.test', AGENTSESSION_TOKEN: 'env-token' },
    }).toString();
    const got = JSON.parse(out) as { err: string; url: string; auth: string };
    assert.match(got.err, /no base URL/);
    assert.equal(got.url, 'https://api.example/v1/health');
    assert.equal(got.auth, 'Bearer tkn');
  });
});
