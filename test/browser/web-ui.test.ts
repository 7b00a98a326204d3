import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiSession, attemptLogin } from './support/api-session.js';
import type { TestBrowser } from './support/browser.js';
import { SCREENSHOTS, horizontalOverflow, launchBrowser, screenshot } from './support/browser.js';
import type { UiServer } from './support/ui-server.js';
import { ADMIN_PASSWORD, ensureWebBuilt, startUiServer } from './support/ui-server.js';

/**
 * The web UI in Debian's Chromium against a real server process on a temp SQLite database
 * seeded with TRAILMARK_UI_SEED entries (default 200,000). One server and one browser for
 * the whole file; each person gets their own browser context.
 */
const SEED = Number(process.env.TRAILMARK_UI_SEED ?? 200_000);
const ROOT = new URL('../../', import.meta.url);
const PASSWORD = 'a-user-password-123';
const SECRET_KEY = 'browser-test-secret-key-0123456789abcdefghij';
const run = promisify(execFile);

let ui: UiServer;
let browser: TestBrowser;
let admin: ApiSession;
let worker: ApiSession;
const timings: Record<string, number> = {};

async function signIn(context: BrowserContext, username: string, password: string, path = '/audit'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${ui.url}${path}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

/** The seq of every entry row on screen, top to bottom. */
const shownSeqs = (page: Page): Promise<number[]> => page.evaluate(`[...document.querySelectorAll('tr.entry-row')].map((r) => Number(r.getAttribute('data-seq')))`);
const urlParams = (page: Page): URLSearchParams => new URL(page.url()).searchParams;

/** Whether the element has the keyboard focus. */
const focused = (locator: Locator): Promise<boolean> => locator.evaluate((el: { ownerDocument: { activeElement: unknown } }) => el === el.ownerDocument.activeElement);

/** Whether the focused element shows a focus ring (keyboard users must see where they are). */
const focusVisible = (page: Page): Promise<{ tag: string; name: string; outline: string }> =>
  page.evaluate(`(() => { const el = document.activeElement; const s = getComputedStyle(el); return { tag: el.tagName, name: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40), outline: s.outlineStyle + ' ' + s.outlineWidth }; })()`);

describe('web UI (Chromium)', () => {
  beforeAll(async () => {
    const build = ensureWebBuilt();
    if (build.built) timings.web_build_ms = build.ms;
    ui = await startUiServer({ bulk: SEED, recent: 150, days: 20 });
    timings.seed_ms = ui.seed.ms;
    timings.seed_entries = ui.seed.entries;
    browser = await launchBrowser();
    admin = await ApiSession.login(ui.url, 'admin', ADMIN_PASSWORD);
    for (const [username, role] of [['vera', 'viewer'], ['carol', 'auditor'], ['bob', 'operator']] as const) {
      await admin.json('POST', '/api/users', { username, password: PASSWORD, role });
    }
    const { token } = await admin.json<{ token: string }>('POST', '/api/tokens', { name: 'rotation-worker', scopes: ['audit:write'] });
    worker = ApiSession.withToken(ui.url, token);
  }, 600_000);

  afterAll(async () => {
    writeFileSync(join(SCREENSHOTS, '..', 'ui-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    console.log('web UI timings', timings);
    await browser?.close();
    await ui?.stop();
  });

  it('serves the app at / and for client routes, never in place of /api or /docs', async () => {
    const html = await fetch(`${ui.url}/audit?action=rotation.*&severity=error`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const body = await html.text();
    expect(body).toContain('<div id="root">');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(body)![1]!;
    const js = await fetch(`${ui.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await js.text()).length).toBeGreaterThan(1000);
    const api = await fetch(`${ui.url}/api/nothing-here`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: 'not_found' } });
    const docs = await fetch(`${ui.url}/docs/json`);
    expect(docs.headers.get('content-type')).toMatch(/json/);
    expect(await docs.json()).toHaveProperty('paths');
    // Only the built files are served: anything else is the app's page, never a file from disk.
    for (const path of ['/package.json', '/web/dist/index.html', '/%2e%2e/package.json', '/assets/../../package.json']) {
      const res = await fetch(`${ui.url}${path}`);
      expect(await res.text(), path).not.toContain('"name": "trailmark"');
    }
  });

  it('signs in with the keyboard, and explains a wrong password and a locked account', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${ui.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');

    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Password').fill('not-her-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();

    // Lock bob: the threshold goes down to 3 failures, then three wrong passwords.
    await admin.json('PUT', '/api/settings', { lockout_threshold: 3 });
    for (let i = 0; i < 3; i++) expect(await attemptLogin(ui.url, 'bob', 'wrong-password-here')).toBe(401);
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const locked = page.getByRole('alert').filter({ hasText: 'locked' });
    await locked.waitFor();
    expect(await locked.textContent()).toMatch(/unlocks at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC/);
    await screenshot(page, 'sign-in-locked');

    // Keyboard only: the username box has focus on load; Tab, type, Enter.
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    expect(await focusVisible(page)).toMatchObject({ tag: 'INPUT' });
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Audit' }).waitFor();
    expect(await page.getByRole('link', { name: 'Audit' }).getAttribute('aria-current')).toBe('page');
    await context.close();
  });

  describe('as an admin', () => {
    let context: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      context = await browser.newContext();
      page = await signIn(context, 'admin', ADMIN_PASSWORD);
    });
    afterAll(async () => {
      await context.close();
    });

    it(`renders the first page of the Audit tab quickly with ${SEED.toLocaleString('en')} entries`, async () => {
      const apiStart = Date.now();
      await admin.json('GET', '/api/audit?limit=50');
      timings.api_first_page_ms = Date.now() - apiStart;
      // From navigation to 50 rows on screen: the document, the app's code, /api/auth/me and
      // the page query together. Best of three, so a busy CI machine's hiccup is not counted.
      const loads: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await page.goto(`${ui.url}/audit`);
        await page.locator('tr.entry-row').nth(49).waitFor();
        loads.push(Date.now() - started);
      }
      timings.first_page_render_ms = Math.min(...loads);
      timings.first_page_render_worst_ms = Math.max(...loads);
      expect(await page.locator('tr.entry-row').count()).toBe(50);
      expect(timings.first_page_render_ms).toBeLessThan(1_000);
      await page.getByText(/matching/).waitFor();
      await screenshot(page, 'audit');
    });

    it('filters by event type (a category wildcard), severity and search, with the view in the URL', async () => {
      await page.goto(`${ui.url}/audit`);
      await page.getByRole('button', { name: /Event type/ }).click();
      await page.getByRole('group', { name: 'Event types' }).waitFor();
      await page.getByLabel(/All rotation events/).check();
      expect((await horizontalOverflow(page)).culprits).toEqual([]);
      await screenshot(page, 'audit-event-types');
      await page.getByRole('button', { name: 'Done' }).click();
      await expect.poll(() => urlParams(page).getAll('action')).toEqual(['rotation.*']);

      await page.getByLabel('error').check();
      await expect.poll(() => urlParams(page).getAll('severity')).toEqual(['error']);
      await page.getByRole('searchbox', { name: 'Search' }).fill('billing');
      await expect.poll(() => urlParams(page).get('q')).toBe('billing');

      const expected = await admin.json<{ items: Array<{ seq: number; action: string }> }>('GET', '/api/audit?action=rotation.*&severity=error&q=billing&limit=50');
      expect(expected.items.length).toBeGreaterThan(0);
      expect(expected.items.every((e) => e.action === 'rotation.failed')).toBe(true);
      await expect.poll(() => shownSeqs(page), { timeout: 10_000 }).toEqual(expected.items.map((e) => e.seq));

      // A shared link shows the same view.
      const shared = await context.newPage();
      await shared.goto(page.url());
      await shared.locator('tr.entry-row').first().waitFor();
      expect(await shared.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe('billing');
      expect(await shared.getByLabel('error').isChecked()).toBe(true);
      expect(await shownSeqs(shared)).toEqual(expected.items.map((e) => e.seq));
      await shared.close();

      await page.getByRole('button', { name: '24 h' }).click();
      await expect.poll(() => urlParams(page).get('range')).toBe('24h');
      expect(await page.getByRole('button', { name: '24 h' }).getAttribute('aria-pressed')).toBe('true');
      await page.getByRole('button', { name: 'Clear filters' }).first().click();
      await expect.poll(() => page.url()).toBe(`${ui.url}/audit`);
    });

    it('pages through the cursor in a stable order', async () => {
      await page.goto(`${ui.url}/audit?action=sync.*`);
      await page.locator('tr.entry-row').first().waitFor();
      const first = await shownSeqs(page);
      await page.getByRole('button', { name: 'Older →' }).click();
      await expect.poll(() => urlParams(page).get('cursor')).toBe(String(first.at(-1)));
      await expect.poll(async () => (await shownSeqs(page))[0]! < first.at(-1)!).toBe(true);
      const second = await shownSeqs(page);
      expect(second).toEqual([...second].sort((a, b) => b - a));
      await page.getByRole('button', { name: '← Newer' }).click();
      await expect.poll(() => shownSeqs(page)).toEqual(first);
    });

    it('opens an entry with the keyboard: details, then the drawer with seq, hashes and raw JSON', async () => {
      await page.goto(`${ui.url}/audit?action=rotation.completed`);
      const expand = page.getByRole('button', { name: /^Show details of entry/ }).first();
      await expand.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: /^Hide details of entry/ }).first().waitFor();
      expect(await page.locator('tr.details-row pre.json').first().textContent()).toContain('"updated_vaults"');

      await page.keyboard.press('Tab');
      const focused = await focusVisible(page);
      expect(focused.name).toMatch(/^Open entry \d+$/);
      expect(focused.outline).toMatch(/^solid [1-9]/);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      // The drawer moves focus in an effect, just after it appears.
      await expect.poll(async () => (await focusVisible(page)).name).toBe('Close');

      const seq = Number(await dialog.getByTestId('entry-seq').textContent());
      const { items } = await admin.json<{ items: Array<Record<string, unknown>> }>('GET', `/api/audit?limit=1&cursor=${seq + 1}`);
      const entry = items[0]!;
      expect(entry.seq).toBe(seq);
      expect(await dialog.getByTestId('entry-hash').textContent()).toBe(entry.hash);
      expect(await dialog.getByTestId('entry-prev-hash').textContent()).toBe(entry.prev_hash);
      expect(JSON.parse((await dialog.getByTestId('entry-json').textContent())!)).toEqual(entry);
      expect(urlParams(page).get('entry')).toBe(entry.id);
      await screenshot(page, 'audit-entry');

      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      // Focus goes back to the opener on the next animation frame after the drawer closes.
      await expect.poll(async () => (await focusVisible(page)).name).toBe(focused.name);
    });

    it('Live shows a new entry as soon as a worker records it', async () => {
      await page.goto(`${ui.url}/audit?action=rotation.*`);
      await page.locator('tr.entry-row').first().waitFor();
      await page.getByRole('button', { name: 'Live' }).click();
      await page.getByText('Receiving new entries').waitFor();
      const before = (await shownSeqs(page))[0]!;
      await worker.json('POST', '/api/audit/events', {
        events: [
          { action: 'sync.completed', resource: { type: 'sync_job', id: 'not-shown' }, details: { synced_count: 1, duration_ms: 10 } },
          { action: 'rotation.failed', resource: { type: 'secret', id: 'payments/live-test-secret', name: 'live-test-secret' }, details: { error_message: 'vault sealed', rollback_status: 'rolled_back' } },
        ],
      });
      const row = page.locator('tr.entry-row', { hasText: 'live-test-secret' });
      await row.waitFor({ timeout: 5_000 });
      const seqs = await shownSeqs(page);
      expect(seqs[0]).toBeGreaterThan(before);
      expect(await page.locator('tr.entry-row', { hasText: 'not-shown' }).count()).toBe(0);
      await page.getByRole('button', { name: 'Live' }).click();
      expect(await page.getByRole('button', { name: 'Live' }).getAttribute('aria-pressed')).toBe('false');
    });

    it('exports both formats with the current filters; the CSV and PDF verify', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'trailmark-export-'));
      try {
        await page.goto(`${ui.url}/audit?range=24h&action=rotation.*`);
        await page.locator('tr.entry-row').first().waitFor();
        for (const [item, ext] of [['Hash-chained CSV', 'csv'], ['Evidence bundle (PDF)', 'pdf']] as const) {
          await page.getByRole('button', { name: 'Export' }).click();
          const menu = page.getByRole('menu', { name: 'Export format' });
          await menu.waitFor();
          if (ext === 'csv') await screenshot(page, 'audit-export-menu');
          const started = Date.now();
          const [download] = await Promise.all([page.waitForEvent('download'), menu.getByRole('menuitem', { name: item }).click()]);
          const file = join(dir, download.suggestedFilename());
          await download.saveAs(file);
          timings[`export_${ext}_ms`] = Date.now() - started;
          expect(file.endsWith(`.${ext}`)).toBe(true);
          await page.getByRole('status').filter({ hasText: 'Downloaded' }).waitFor();
          const head = readFileSync(file).subarray(0, 5).toString();
          if (ext === 'pdf') expect(head).toBe('%PDF-');
          const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'verify', file, '--secret-key', SECRET_KEY], { cwd: ROOT });
          expect(stdout).toMatch(/Rows:\s+[1-9]/);
        }
        // The CSV holds exactly the filtered entries.
        const csv = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.csv'))!), 'utf8');
        expect(csv).toContain('rotation.');
        expect(csv).not.toContain('sync.completed');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('changes Audit Log Retention in Settings → Advanced, refusing values out of 30–365', async () => {
      await page.getByRole('link', { name: 'Settings' }).click();
      const advanced = page.getByRole('region', { name: 'Advanced' });
      await advanced.waitFor();
      const retention = advanced.getByLabel('Audit Log Retention');
      await retention.fill('20');
      await advanced.getByRole('button', { name: 'Save advanced' }).click();
      await advanced.getByText('Enter a whole number of days from 30 to 365.').waitFor();
      expect(await retention.getAttribute('aria-invalid')).toBe('true');
      expect((await admin.json<{ settings: { audit_retention_days: number } }>('GET', '/api/settings')).settings.audit_retention_days).toBe(90);
      expect((await admin.raw('PUT', '/api/settings', { audit_retention_days: 400 })).status).toBe(400);

      await retention.fill('120');
      await advanced.getByRole('button', { name: 'Save advanced' }).click();
      await advanced.getByRole('status').filter({ hasText: 'Saved: audit_retention_days' }).waitFor();
      expect((await admin.json<{ settings: { audit_retention_days: number } }>('GET', '/api/settings')).settings.audit_retention_days).toBe(120);
      await advanced.scrollIntoViewIfNeeded();
      await screenshot(page, 'settings-advanced');
    });

    it('creates a user and shows the API error for a duplicate', async () => {
      await page.getByRole('link', { name: 'Users' }).click();
      const form = page.getByRole('region', { name: 'Create a user' });
      await form.getByLabel('New username').fill('erin');
      await form.getByLabel('Initial password').fill(PASSWORD);
      await form.getByLabel('Role').selectOption('auditor');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('status').filter({ hasText: 'User erin created as auditor.' }).waitFor();
      await page.getByRole('rowheader', { name: 'erin' }).waitFor();
      const users = await admin.json<{ users: Array<{ username: string; role: string }> }>('GET', '/api/users');
      expect(users.users.find((u) => u.username === 'erin')?.role).toBe('auditor');

      await form.getByLabel('New username').fill('erin');
      await form.getByLabel('Initial password').fill(PASSWORD);
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('alert').filter({ hasText: /erin/ }).waitFor();

      // Unlock bob (locked by the sign-in test).
      await page.getByRole('row', { name: /bob/ }).getByRole('button', { name: 'Unlock' }).click();
      await page.getByRole('status').filter({ hasText: 'bob is unlocked.' }).waitFor();
      await screenshot(page, 'users');

      // Change erin's role, reset her password, then delete her (after a confirmation).
      await page.getByLabel('Role of erin').selectOption('viewer');
      await page.getByRole('status').filter({ hasText: 'erin is now viewer.' }).waitFor();
      const erin = page.getByRole('row', { name: /erin/ });
      await erin.getByRole('button', { name: 'Reset password' }).click();
      await erin.getByLabel('New password for erin').fill('another-password-456');
      await erin.getByRole('button', { name: 'Save password' }).click();
      await page.getByRole('status').filter({ hasText: 'Password of erin reset' }).waitFor();
      await erin.getByRole('button', { name: 'Delete' }).click();
      await erin.getByRole('button', { name: 'Yes, delete' }).click();
      await page.getByRole('status').filter({ hasText: 'erin was deleted.' }).waitFor();
      expect((await admin.json<{ users: Array<{ username: string }> }>('GET', '/api/users')).users.map((u) => u.username)).not.toContain('erin');
    });

    it('creates an alert rule, an API token (shown once) and a subscription', async () => {
      await page.getByRole('link', { name: 'Alert rules' }).click();
      await page.getByRole('button', { name: 'New rule' }).click();
      const form = page.getByRole('form', { name: 'New alert rule' });
      await form.getByLabel('Rule name').fill('Failed rotations to SIEM');
      await form.getByRole('button', { name: /Event types/ }).click();
      await form.getByLabel(/All rotation events/).check();
      await form.getByRole('button', { name: 'Done' }).click();
      await form.getByLabel('Minimum severity').selectOption('error');
      await form.getByLabel('Webhook URL').fill('http://127.0.0.1:9/hook');
      await form.getByRole('button', { name: 'Create rule' }).click();
      await page.getByRole('status').filter({ hasText: 'Rule Failed rotations to SIEM created.' }).waitFor();
      const rule = page.getByRole('article', { name: 'Failed rotations to SIEM' });
      await rule.getByRole('button', { name: 'Send test event' }).click();
      // Nothing listens on port 9: the UI shows why the delivery failed.
      await page.getByRole('alert').filter({ hasText: /not delivered|failed|refused/i }).waitFor({ timeout: 20_000 });
      await rule.getByRole('button', { name: 'Recent deliveries' }).click();
      await rule.getByText(/delivered ·/).waitFor();
      await screenshot(page, 'alert-rules');
      await rule.getByRole('button', { name: 'Edit' }).click();
      await rule.getByLabel('Rule name').fill('Failed rotations to Splunk');
      await rule.getByLabel('Payload format').selectOption('splunk_hec');
      await rule.getByRole('button', { name: 'Save rule' }).click();
      await page.getByRole('status').filter({ hasText: 'Rule Failed rotations to Splunk saved.' }).waitFor();
      const saved = await admin.json<{ rules: Array<{ name: string; channel: { format: string; url: string } }> }>('GET', '/api/alert-rules');
      expect(saved.rules[0]).toMatchObject({ name: 'Failed rotations to Splunk', channel: { format: 'splunk_hec', url: 'http://127.0.0.1:9/hook' } });

      await page.getByRole('link', { name: 'API tokens' }).click();
      await page.getByLabel('Token name').fill('siem-reader');
      await page.getByLabel(/audit:write/).uncheck();
      await page.getByLabel(/audit:read/).check();
      await page.getByRole('button', { name: 'Create token' }).click();
      expect(await page.getByTestId('new-token').textContent()).toMatch(/^tm_/);
      await screenshot(page, 'tokens');

      // Revoke asks first; Escape cancels and gives focus back to the Revoke button.
      const tokenRow = page.getByRole('row', { name: /siem-reader/ });
      await tokenRow.getByRole('button', { name: 'Revoke', exact: true }).click();
      const confirmRevoke = tokenRow.getByRole('group', { name: 'Confirm revoking siem-reader' });
      expect(await focused(confirmRevoke.getByRole('button', { name: 'Yes, revoke' }))).toBe(true);
      await page.keyboard.press('Escape');
      await confirmRevoke.waitFor({ state: 'detached' });
      expect(await focused(tokenRow.getByRole('button', { name: 'Revoke', exact: true }))).toBe(true);
      await page.keyboard.press('Enter');
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Token siem-reader revoked.' }).waitFor();
      await tokenRow.getByText(/^revoked /).waitFor();

      await page.getByRole('link', { name: 'Subscriptions' }).click();
      await page.getByLabel('Subscription ID').fill('not-a-guid');
      await page.getByRole('button', { name: 'Add subscription' }).click();
      await page.getByRole('alert').filter({ hasText: 'GUID' }).waitFor();
      await page.getByLabel('Subscription ID').fill('6f1c2b7e-8f0a-4a51-9d0e-2b9c1e3f4a5b');
      await page.getByLabel('Display name (optional)').fill('Production');
      await page.getByRole('button', { name: 'Add subscription' }).click();
      await page.getByRole('status').filter({ hasText: 'Subscription Production added.' }).waitFor();
      const subRow = page.getByRole('row', { name: /Production/ });
      await subRow.getByRole('button', { name: 'Remove' }).click();
      await subRow.getByRole('button', { name: 'Cancel' }).click();
      expect(await focused(subRow.getByRole('button', { name: 'Remove' }))).toBe(true);
      await subRow.getByRole('button', { name: 'Remove' }).click();
      await subRow.getByRole('group', { name: 'Confirm removing Production' }).getByRole('button', { name: 'Yes, remove' }).click();
      await page.getByRole('status').filter({ hasText: 'Subscription Production removed.' }).waitFor();
      expect((await admin.json<{ subscriptions: Array<{ subscription_id: string }> }>('GET', '/api/subscriptions')).subscriptions.map((x) => x.subscription_id)).not.toContain('6f1c2b7e-8f0a-4a51-9d0e-2b9c1e3f4a5b');
    });

    it('fits 1280×800 and 390×844 on every page without sideways scrolling', async () => {
      const pages = ['/audit', '/alert-rules', '/subscriptions', '/users', '/tokens', '/settings'];
      const problems: string[] = [];
      for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
        await page.setViewportSize(viewport);
        for (const path of pages) {
          await page.goto(`${ui.url}${path}`);
          await page.getByRole('heading', { level: 1 }).waitFor();
          await page.waitForLoadState('networkidle');
          const o = await horizontalOverflow(page);
          if (o.scrollWidth > o.viewport) problems.push(`${path} at ${viewport.width}: ${o.scrollWidth} > ${o.viewport} (${o.culprits.join(', ')})`);
          if (viewport.width < 500) await screenshot(page, `mobile${path.replace('/', '-')}`);
        }
        await page.goto(`${ui.url}/audit`);
        await page.getByRole('button', { name: /^Open entry/ }).first().click();
        await page.getByRole('dialog').waitFor();
        const o = await horizontalOverflow(page);
        if (o.scrollWidth > o.viewport) problems.push(`entry drawer at ${viewport.width}: ${o.scrollWidth} (${o.culprits.join(', ')})`);
        if (viewport.width < 500) await screenshot(page, 'mobile-audit-entry');
      }
      await page.setViewportSize({ width: 1280, height: 800 });
      expect(problems).toEqual([]);
    });
  });

  it('a viewer reads the log but sees no Export button and no admin pages', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, 'vera', PASSWORD);
    await page.locator('tr.entry-row').first().waitFor();
    await page.getByRole('button', { name: 'Live' }).waitFor();
    expect(await page.getByRole('button', { name: 'Export' }).count()).toBe(0);
    const nav = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(nav).toEqual(['Audit', 'Alert rules', 'Subscriptions']);
    await page.goto(`${ui.url}/settings`);
    await page.getByRole('alert').filter({ hasText: 'Only admin users' }).waitFor();
    await screenshot(page, 'viewer-audit');
    await context.close();
  });

  it('explains sign-in rate limiting with the time to wait', async () => {
    let status = 0;
    for (let i = 0; i < 40 && status !== 429; i++) status = await attemptLogin(ui.url, `nobody-${i}`, 'x');
    expect(status).toBe(429);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${ui.url}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /Too many sign-in attempts.*in \d+ seconds/ }).waitFor();
    await context.close();
  });
});
