// Browser tests of the dashboard: the real `budgeteer serve` (build/budgeteer), Debian's
// chromium driven headless by playwright-core. Run with `make test-web` (or `npm test` in web/).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN, VIEWER, record, startServer } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const IMAGES = resolve(import.meta.dirname, '../../docs/images');

// The README's screenshots are rewritten only on request (UPDATE_SCREENSHOTS=1 npm test), so a
// test run leaves the working tree clean; otherwise the page is still rendered to a buffer.
async function saveScreenshot(page, name) {
  const shot = await page.screenshot({ fullPage: true });
  assert.ok(shot.length > 0, `screenshot ${name} is empty`);
  if (process.env.UPDATE_SCREENSHOTS === '1') writeFileSync(resolve(IMAGES, name), shot);
}
const ALICE = '111122223333:alice';
const BOB = '111122223333:bob';
const CAROL = '111122223333:carol';

let server;
let browser;
const problems = []; // console errors and page errors, from every page of every test
const contexts = [];

async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return page;
}

async function signIn(page, tokenValue) {
  await page.goto(server.base + '/');
  await page.getByLabel('API token (viewer or admin)').fill(tokenValue);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#budgets tr[data-principal]').first().waitFor();
}

function row(page, principal) {
  return page.locator(`#budgets tr[data-principal="${principal}"]`);
}

describe('dashboard', () => {
  before(async () => {
    assert.ok(CHROMIUM, 'chromium not found: apt-get install chromium (make deps does)');
    server = await startServer();
    // alice 0.80 of 1 (warning), bob 0.10 (active), carol 1.20 (over budget: grace period).
    const res = await server.api('POST', '/v1/usage', ADMIN, [
      record('r-alice-1', 'alice', 2_000_000), record('r-alice-2', 'alice', 1_200_000),
      record('r-bob-1', 'bob', 400_000), record('r-carol-1', 'carol', 4_800_000),
    ]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.applied, 4);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the page comes with a strict CSP, and assets with ETags', async () => {
    const res = await fetch(server.base + '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
    assert.doesNotMatch(res.headers.get('content-security-policy'), /unsafe-inline/);
    const js = await fetch(server.base + '/assets/app.js');
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    const again = await fetch(server.base + '/assets/app.js', { headers: { 'If-None-Match': js.headers.get('etag') } });
    assert.equal(again.status, 304);
  });

  test('a viewer signs in and sees the principals with exact amounts and statuses', async () => {
    const page = await newPage();
    await signIn(page, VIEWER);
    await assert.doesNotReject(page.getByText('web-viewer (viewer)').waitFor());
    const expect = [[ALICE, '$0.80', 'warning', '80.00%'], [BOB, '$0.10', 'active', '10.00%'],
      [CAROL, '$1.20', 'grace_period', '120.00%']];
    for (const [p, spent, status, pct] of expect) {
      const r = row(page, p);
      assert.equal(await r.locator('[data-field=spent]').textContent(), spent, p);
      assert.equal(await r.locator('[data-field=status] .badge').getAttribute('data-status'), status, p);
      assert.equal(await r.locator('[data-field=percent]').textContent(), pct, p);
    }
    assert.equal(await page.locator('#total-spend').textContent(), '$2.10');
    assert.equal(await page.locator('[data-count=grace_period]').textContent(), '1');
    // Sorted by spend, largest first; the search narrows the list on the server.
    assert.equal(await page.locator('#budgets tr').first().getAttribute('data-principal'), CAROL);
    await page.getByLabel('Search').fill('bob');
    await page.waitForFunction(() => document.querySelectorAll('#budgets tr[data-principal]').length === 1);
    assert.equal(await page.locator('#budgets tr').first().getAttribute('data-principal'), BOB);
    await page.getByLabel('Search').fill('');
    await page.waitForFunction(() => document.querySelectorAll('#budgets tr[data-principal]').length === 3);
    await page.locator('#models svg').waitFor();
    mkdirSync(IMAGES, { recursive: true });
    await saveScreenshot(page, 'dashboard-overview.png');

    // A viewer has no controls on a principal page, and the API refuses a change anyway.
    await row(page, ALICE).getByRole('link').click();
    await page.locator('#spend-chart svg').waitFor();
    assert.equal(await page.locator('#admin').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Suspend' }).count(), 0);
    const refused = await server.api('PATCH', `/v1/budgets/${ALICE}`, VIEWER, { limit_usd: '5' });
    assert.equal(refused.status, 403);
    await page.context().close();
  });

  test('a principal page shows its chart, models and audit', async () => {
    const page = await newPage();
    await signIn(page, ADMIN);
    await row(page, CAROL).getByRole('link').click();
    await page.locator('#spend-chart svg rect').first().waitFor();
    await page.locator('#model-chart svg').waitFor();
    assert.equal(await page.locator('#p-spent').textContent(), '$1.20');
    await page.locator('#audit li', { hasText: 'principal_created' }).first().waitFor();
    await page.locator('#audit li .badge[data-status=grace_period]').first().waitFor();
    await page.getByRole('button', { name: 'Daily' }).click();
    await page.locator('#spend-chart svg rect').first().waitFor();
    await page.getByRole('button', { name: 'Hourly' }).click();
    await saveScreenshot(page, 'dashboard-principal.png');
    await page.context().close();
  });

  test('an admin raises a limit and the status changes on screen', async () => {
    const page = await newPage();
    await signIn(page, ADMIN);
    await row(page, ALICE).getByRole('link').click();
    await page.locator('#p-status .badge[data-status=warning]').waitFor();
    await page.getByLabel('Limit (USD)').fill('10');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('limit_usd = 10').waitFor();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('#p-status .badge[data-status=active]').waitFor();
    await page.locator('#admin-result', { hasText: 'Status is now active' }).waitFor();
    assert.equal(await page.locator('#p-limit').textContent(), '$10.00');
    assert.equal(await page.locator('#p-percent').textContent(), '8.00%');
    // Suspend, then restore with one click each (after confirming).
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Suspend' }).click();
    await page.locator('#p-status .badge[data-status=suspended]').waitFor();
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    await page.locator('#p-status .badge[data-status=active]').waitFor();
    const audit = await server.api('GET', `/v1/audit?principal=${ALICE}`, VIEWER);
    assert.ok(audit.json.some((e) => e.actor === 'web-admin'), 'changes are audited with the admin name');
    await page.context().close();
  });

  test('live: a new record shows up without a reload', async () => {
    const page = await newPage({ width: 390, height: 844 }); // a phone
    await signIn(page, VIEWER);
    assert.equal(await row(page, BOB).locator('[data-field=spent]').textContent(), '$0.10');
    let reloaded = false;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) reloaded = true; });
    const res = await server.api('POST', '/v1/usage', ADMIN, [record('r-bob-2', 'bob', 2_600_000)]);
    assert.equal(res.json.applied, 1);
    await page.waitForFunction((p) => document.querySelector(`#budgets tr[data-principal="${p}"] [data-field=spent]`)?.textContent === '$0.75', BOB, { timeout: 10000 });
    assert.equal(await row(page, BOB).locator('[data-field=status] .badge').getAttribute('data-status'), 'warning');
    assert.equal(reloaded, false);
    await page.context().close();
  });

  test('audit, prices and health pages render; the theme toggles; keyboard works', async () => {
    const page = await newPage();
    await signIn(page, VIEWER);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.locator('#audit-rows tr').first().waitFor();
    await page.getByLabel('Actor contains').fill('web-admin');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-rows tr')].every((r) => r.textContent.includes('web-admin')));
    await page.getByRole('link', { name: 'Prices' }).click();
    await page.getByRole('heading', { name: 'Per million tokens' }).waitFor();
    await page.getByText('anthropic.claude-3-haiku-20240307-v1', { exact: true }).first().waitFor();
    await page.getByRole('link', { name: 'Health' }).click();
    await page.locator('#backlog').waitFor();
    await page.getByRole('cell', { name: 'api' }).waitFor();
    // The last record from each source is shown (a date, not the placeholder for none).
    assert.match(await page.locator('[data-last-record=api]').textContent(), /\d/);
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    // Keyboard: Tab reaches the navigation links and Enter follows one.
    await page.evaluate(() => { location.hash = '#/'; });
    await page.reload();
    await page.locator('#budgets tr[data-principal]').first().waitFor();
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab'); // brand
    await page.keyboard.press('Tab'); // Overview
    await page.keyboard.press('Tab'); // Audit
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Audit');
    await page.keyboard.press('Enter');
    await page.locator('#audit-rows tr').first().waitFor();
    await page.context().close();
  });

  test('10,000 principals: the first page paints fast, paged on the server', async () => {
    const records = [];
    for (let i = 0; i < 10_000; i++) records.push(record(`r-many-${i}`, `user-${String(i).padStart(5, '0')}`, 1000 + i));
    const res = await server.api('POST', '/v1/usage', ADMIN, records);
    assert.equal(res.json.applied, 10_000, res.text);
    const page = await newPage();
    const started = Date.now();
    await signIn(page, VIEWER);
    const elapsed = Date.now() - started;
    assert.equal(await page.locator('#budgets tr[data-principal]').count(), 50);
    assert.match(await page.locator('#pager').textContent(), /1–50 of 10003/);
    assert.ok(elapsed < 5000, `first page took ${elapsed} ms`);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.locator('#pager', { hasText: '51–100 of 10003' }).waitFor();
    await page.getByRole('button', { name: 'Principal' }).click(); // sort by name, ascending
    await page.waitForFunction(() => document.querySelector('#budgets tr')?.dataset.principal === '111122223333:alice');
  });

  test('no console errors or page errors in any test', () => {
    assert.deepEqual(problems, []);
  });
});
