import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyExport } from '../../src/export/verify-export.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { buildTestApp } from '../support/test-app.js';
import type { Caller, TestApp } from '../support/test-app.js';

const SECRET = 'test-secret-key-0123456789abcdefghijkl';

for (const backend of BACKENDS) {
  describe(`evidence export API (${backend})`, () => {
    let t: TestApp;
    let dir: string;
    let publicKey: string;
    const save = (name: string, bytes: Buffer): string => {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      return file;
    };
    const latest = async (action: string) => ((await t.request(t.admin, 'GET', `/api/audit?action=${action}&limit=1`)).json() as { items: Array<{ details: Record<string, unknown> }> }).items[0];
    /** The outcome is recorded once the response has finished, just after the client has it. */
    const eventually = async (action: string, match: (d: Record<string, unknown>) => boolean) => {
      for (let i = 0; i < 100; i++) {
        const e = await latest(action);
        if (e && match(e.details)) return e;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${action} entry matched`);
    };

    beforeAll(async () => {
      t = await buildTestApp(backend);
      dir = mkdtempSync(join(tmpdir(), 'trailmark-export-'));
      const writer = await t.token(['audit:write']);
      const events = ['rotation.started', 'rotation.failed', 'sync.completed', 'auth.login.failed', 'discovery.scan.failed'].flatMap((action, i) =>
        Array.from({ length: 4 }, (_, j) => ({ action, resource: { type: 'thing', id: `=HYPERLINK("x")-${i}-${j}`, name: `name, "quoted"\r\nline ${j}` }, details: SAMPLE_DETAILS[action] })),
      );
      expect((await t.request(writer, 'POST', '/api/audit/events', { events })).statusCode).toBe(201);
      publicKey = ((await t.request({ label: 'anyone', headers: {} }, 'GET', '/api/audit/keys')).json() as { keys: Array<{ public_key: string }> }).keys[0]!.public_key;
    });
    afterAll(async () => {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('exports a CSV that verifies (chain, HMAC, signature) and is audited', async () => {
      const res = await t.request(t.admin, 'GET', '/api/audit/export?format=csv');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="trailmark-audit_Trailmark_\d{4}-\d\d-\d\dT\d{6}Z\.csv"$/);
      const result = await verifyExport(save('all.csv', res.rawPayload), { secretKey: SECRET, publicKey });
      expect(result).toMatchObject({ ok: true, checks: { records: 'verified', hmac: 'verified', signature: 'verified' } });
      expect(res.rawPayload.toString()).toContain(`'=HYPERLINK`);
      const entry = await eventually('audit.exported', (d) => d.final_hash === result.final_hash);
      expect(entry.details).toMatchObject({ format: 'csv', row_count: result.row_count, final_hash: result.final_hash, filters: {} });
      const wrongKey = await verifyExport(join(dir, 'all.csv'), { secretKey: 'another-secret-key-of-enough-length!!' });
      expect(wrongKey.ok).toBe(false);
    });

    it('exports exactly the rows GET /api/audit returns for the same filters', async () => {
      const query = 'action=rotation.*&action=sync.completed&severity=error&severity=info';
      const listed = ((await t.request(t.admin, 'GET', `/api/audit?${query}&limit=1000`)).json() as { items: Array<{ seq: number }> }).items.map((e) => e.seq).reverse();
      const res = await t.request(t.admin, 'GET', `/api/audit/export?format=csv&${query}`);
      const result = await verifyExport(save('filtered.csv', res.rawPayload), { secretKey: SECRET, publicKey });
      expect(result.ok).toBe(true);
      const rows = res.rawPayload.toString().split('\r\n').slice(1, -2).filter((l) => /^\d+,/.test(l)).map((l) => Number(l.split(',')[0]));
      expect(rows).toEqual(listed);
      expect(result).toMatchObject({ row_count: listed.length, first_seq: listed[0], last_seq: listed[listed.length - 1], filters: { action: ['rotation.*', 'sync.completed'], severity: ['error', 'info'] } });
    });

    it('exports a PDF bundle whose embedded CSV verifies, and an empty export that verifies', async () => {
      const pdf = await t.request(t.admin, 'GET', '/api/audit/export?format=pdf&action=sync.*');
      expect(pdf.statusCode).toBe(200);
      expect(pdf.headers['content-type']).toBe('application/pdf');
      expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
      expect(await verifyExport(save('bundle.pdf', pdf.rawPayload), { secretKey: SECRET, publicKey })).toMatchObject({ ok: true, kind: 'pdf' });
      expect((await eventually('audit.exported', (d) => d.format === 'pdf')).details).toMatchObject({ filters: { action: ['sync.*'] } });
      const empty = await t.request(t.admin, 'GET', `/api/audit/export?format=csv&end=2000-01-01T00:00:00Z`);
      expect(await verifyExport(save('empty.csv', empty.rawPayload), { secretKey: SECRET, publicKey })).toMatchObject({ ok: true, row_count: 0, first_seq: null });
    });

    it('lets auditors export only when the setting allows, and never viewers, operators or tokens', async () => {
      const auditor = await t.userWithRole('auditor');
      const refused: Caller[] = [auditor, await t.userWithRole('viewer'), await t.userWithRole('operator'), await t.token(['audit:read'])];
      for (const caller of refused) expect((await t.request(caller, 'GET', '/api/audit/export?format=csv')).statusCode, caller.label).toBe(403);
      expect((await t.request(t.admin, 'PUT', '/api/settings', { auditors_may_export: true })).statusCode).toBe(200);
      t.clock.advance(6_000); // past the settings cache
      expect((await t.request(auditor, 'GET', '/api/audit/export?format=csv')).statusCode).toBe(200);
      expect((await t.request(t.admin, 'PUT', '/api/settings', { auditors_may_export: false })).statusCode).toBe(200);
    });

    it('names the file safely whatever the tenant is called, and refuses bad filters with 400', async () => {
      expect((await t.request(t.admin, 'PUT', '/api/settings', { tenant_name: 'Acme "Corp"; filename=evil.exe' })).statusCode).toBe(200);
      const res = await t.request(t.admin, 'GET', '/api/audit/export?format=csv');
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="trailmark-audit_Acme-Corp-filename-evil.exe_[0-9TZ-]+\.csv"$/);
      expect((await t.request(t.admin, 'GET', '/api/audit/export?format=xlsx')).statusCode).toBe(400);
      expect((await t.request(t.admin, 'GET', '/api/audit/export?action=nope.*')).statusCode).toBe(400);
      expect((await t.request(t.admin, 'PUT', '/api/settings', { tenant_name: 'Trailmark' })).statusCode).toBe(200);
    });

    it('records an export cut off mid-stream as failed, never as complete', async () => {
      const writer = await t.token(['audit:write']);
      // Far more than loopback socket buffers hold, so the server cannot finish writing alone.
      for (let i = 0; i < 20; i++) {
        const events = Array.from({ length: 1000 }, (_, j) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: `bulk-${i}-${j}` }, details: SAMPLE_DETAILS['sync.completed'] }));
        expect((await t.request(writer, 'POST', '/api/audit/events', { events })).statusCode).toBe(201);
      }
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const url = new URL('/api/audit/export?format=csv', address);
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(url, { headers: t.admin.headers }, (res) => {
          res.once('data', () => {
            res.pause();
            setTimeout(() => {
              req.destroy();
              resolve();
            }, 200);
          });
        });
        req.on('error', () => resolve());
        req.setTimeout(10_000, () => reject(new Error('no data')));
        req.end();
      });
      const failed = await eventually('audit.export.failed', () => true);
      expect(failed.details).toMatchObject({ format: 'csv', error_message: expect.stringContaining('cut off') });
      expect((failed.details.rows_written as number) < 20_000).toBe(true);
    });
  });
}
