// Browser test of the generated API docs: `make docs-test`.
//
// It opens docs/index.html from disk in headless Chromium (Debian's package, installed by
// scripts/install-chromium.sh) with the network switched off, and checks what a reader
// sees: every tag and every operation summary of openapi.yaml is rendered (read from the
// spec, not hard-coded), each operation shows its method, path and curl request example,
// the server-sent-events examples render, nothing is fetched from the network and the
// console logs no error.
// It saves docs/screenshot.png (the landing page) and docs/screenshot-sendTurn.png.
//
// Environment: CHROMIUM (default /usr/bin/chromium), DOCS_PAGE (default docs/index.html).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import YAML from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pagePath = resolve(root, process.env.DOCS_PAGE ?? 'docs/index.html');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

// What the page must show, straight from the contract.
const spec = YAML.parse(readFileSync(join(root, 'openapi.yaml'), 'utf8'));
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  methods
    .filter((m) => item[m])
    .map((m) => ({ method: m.toUpperCase(), path, ...item[m] })),
);
const tags = [...new Set([...(spec.tags ?? []).map((t) => t.name), ...operations.flatMap((op) => op.tags ?? [])])];

// Chromium flags: headless, no sandbox (CI runs as root), no GPU, and nothing that talks
// to Google in the background. Playwright adds its own pipe and automation flags.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let context;
let page;
let userDataDir;
const consoleMessages = []; // every console message, for the report
const pageErrors = []; // uncaught exceptions in the page
const networkRequests = []; // anything that was not file:, data: or blob:

before(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'docs-test-chromium-'));
  // launchPersistentContext is how Playwright takes a fresh --user-data-dir.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: chromiumArgs,
    offline: true,
    viewport: { width: 1400, height: 1000 },
  });
  // Belt and braces: offline already fails every network request; this also records it.
  await context.route(/^(https?|wss?|ftp):/, (route) => route.abort('internetdisconnected'));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => consoleMessages.push({ type: msg.type(), text: msg.text(), url: msg.location().url }));
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('request', (req) => {
    if (!/^(file|data|blob|about):/.test(req.url())) networkRequests.push(req.url());
  });
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

// The sidebar: groups are tags, operations sit inside an expanded group.
const menu = () => page.locator('[data-component-name="Menu/Menu"]').first();
const menuGroup = (tag) => menu().locator('.menu-item-type-group', { has: page.locator(`span[data-text="${cssString(tag)}"]`) });
const menuOperation = (summary) =>
  menu().locator('.menu-item-type-operation', { has: page.locator(`span[data-text="${cssString(summary)}"]`) });
// An operation's section in the middle column.
const operationSection = (summary) =>
  page.locator('[data-item-kind="httpItem"]', { has: page.locator('h2', { hasText: exactly(summary) }) });

test('the docs page renders every tag and operation offline, without console errors', async (t) => {
  const started = Date.now();
  await page.goto(pathToFileURL(pagePath).href);
  await page.locator('h1', { hasText: spec.info.title }).first().waitFor();
  await menu().waitFor();
  t.diagnostic(`loaded ${pagePath} in ${Date.now() - started} ms`);
  await page.screenshot({ path: join(root, 'docs/screenshot.png') });

  for (const tag of tags) {
    await t.test(`tag ${tag}`, async (tt) => {
      const group = menuGroup(tag);
      assert.equal(await group.count(), 1, `sidebar has no group for tag ${tag}`);
      await group.locator('a').first().click();
      await page.locator('h2', { hasText: exactly(tag) }).first().waitFor({ timeout: 5000 });
      const tagged = operations.filter((o) => (o.tags ?? [])[0] === tag);
      assert.equal(
        await group.locator('.menu-item-type-operation').count(),
        tagged.length,
        `the sidebar lists a different number of operations under ${tag} than the spec has`,
      );

      for (const op of tagged) {
        await tt.test(`${op.operationId}: ${op.summary}`, async () => {
          const item = menuOperation(op.summary);
          assert.equal(await item.count(), 1, `sidebar has no entry "${op.summary}" under ${tag}`);
          await item.locator('a').first().click();
          const section = operationSection(op.summary);
          await section.waitFor({ timeout: 5000 });
          const text = await section.innerText();
          assert.ok(text.includes(op.path), `section "${op.summary}" does not show the path ${op.path}`);
          assert.ok(text.includes(op.method), `section "${op.summary}" does not show the method ${op.method}`);
          const curl = (op['x-codeSamples'] ?? []).find((sample) => sample.lang === 'curl');
          if (curl) {
            const command = curl.source.split('\n').find((line) => line.startsWith('curl '));
            const samples = await section.locator('.panel-request-samples').innerText();
            assert.ok(samples.includes(command), `the request sample of "${op.summary}" does not show:\n${command}`);
          }
          for (const example of eventStreamExamples(op)) {
            await showEventStreamExample(section, example);
          }
          if (op.operationId === 'sendTurn') {
            await page.screenshot({ path: join(root, 'docs/screenshot-sendTurn.png') });
          }
        });
      }
    });
  }

  t.diagnostic(`checked ${operations.length} operations under ${tags.length} tags in ${Date.now() - started} ms`);
  for (const m of consoleMessages) t.diagnostic(`console.${m.type}: ${oneLine(m.text)}`);
  const errors = consoleMessages.filter((m) => m.type === 'error');
  assert.deepEqual(errors, [], 'the console logged errors');
  assert.deepEqual(pageErrors, [], 'the page threw uncaught exceptions');
  assert.deepEqual(networkRequests, [], 'the page tried to use the network');
});

// The text/event-stream examples of an operation's 2xx responses.
function eventStreamExamples(op) {
  return Object.entries(op.responses ?? {})
    .filter(([code]) => code.startsWith('2'))
    .map(([, response]) => resolveRef(response)?.content?.['text/event-stream']?.example)
    .filter((example) => typeof example === 'string');
}

// Picks text/event-stream in the section's media-type dropdowns, when there are several
// media types, and asserts that the example's frames are on screen.
async function showEventStreamExample(section, example) {
  const frames = example.split('\n').filter((line) => /^(event|id): /.test(line));
  assert.ok(frames.length > 0, 'the text/event-stream example has no frames');
  const shown = async () => {
    const text = await section.innerText();
    return frames.every((frame) => text.includes(frame));
  };
  if (await shown()) return;
  const dropdowns = section.locator('[data-component-name="Dropdown/Dropdown"]', { hasText: 'application/json' });
  for (let i = (await dropdowns.count()) - 1; i >= 0 && !(await shown()); i--) {
    await dropdowns.nth(i).click();
    const choice = page.getByRole('menuitem', { name: 'text/event-stream', exact: true });
    if ((await choice.count()) > 0) await choice.first().click();
    else await page.keyboard.press('Escape');
  }
  assert.ok(await shown(), `the text/event-stream example is not rendered; expected the frames:\n${frames.join('\n')}`);
}

function resolveRef(node) {
  if (!node?.$ref) return node;
  return node.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((n, key) => n?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
}

function exactly(s) {
  return new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

function cssString(s) {
  return s.replace(/["\\]/g, '\\$&');
}

function oneLine(s) {
  return s.replace(/\s+/g, ' ').trim().slice(0, 300);
}
