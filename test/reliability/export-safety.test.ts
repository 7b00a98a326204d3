import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/chain/canonical-json.js';
import { BACKENDS } from '../support/backends.js';
import { ANONYMOUS, buildTestApp } from '../support/test-app.js';
import type { Caller, TestApp } from '../support/test-app.js';
import { runCli } from './helpers/cli.js';
import { FORMULA_START, parseCsv } from './helpers/csv.js';
import { recordFigures } from './helpers/figures.js';
import { NASTY_CHARS } from './helpers/hostile-strings.js';

interface Entry {
  seq: number;
  actor: { name: string | null; id: string | null };
  resource: { type: string; id: string; name: string | null };
  description: string;
  details: unknown;
}

const RUNS = Math.max(20, Math.round(Number(process.env.FUZZ_RUNS ?? 120) / 3));
/** Every control character but NUL (see input-safety.test.ts), C1 controls, and other troublemakers. */
const CONTROLS = [...Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)), '\u007f', '\u0080', '\u0085', '\u009b', '\u2028', '\u2029', '\u202e', '\u200b', '\ufeff', '\ufffe'];
const guarded = (v: string): string => (FORMULA_START.test(v) ? `'${v}` : v);

/** The export's data records by seq (the header and the manifest record checked and dropped). */
function recordsOf(csv: string): Map<number, Record<string, string>> {
  const records = parseCsv(csv);
  const header = records[0]!;
  expect(header.join(',')).toBe('seq,timestamp,action,severity,actor_type,actor_id,actor_name,resource_type,resource_id,resource_name,description,details,row_hash');
  expect(records[records.length - 1]![0]).toMatch(/^#manifest:/);
  return new Map(records.slice(1, -1).map((r) => [Number(r[0]), Object.fromEntries(header.map((h, i) => [h, r[i]!]))]));
}

describe('exports under hostile content', () => {
  for (const backend of BACKENDS) {
    describe(backend, () => {
      let t: TestApp;
      let writer: Caller;
      let dir: string;
      beforeAll(async () => {
        t = await buildTestApp(backend);
        writer = await t.token(['audit:write', 'audit:read'], 'exporter-feed');
        dir = mkdtempSync(join(tmpdir(), 'trailmark-export-safety-'));
      });
      afterAll(async () => {
        await t?.close();
        rmSync(dir, { recursive: true, force: true });
      });

      const ingest = async (events: unknown[]): Promise<number[]> => {
        const res = await t.request(writer, 'POST', '/api/audit/events', { events });
        expect(res.statusCode, res.body).toBe(201);
        return (res.json() as { entries: Array<{ seq: number }> }).entries.map((e) => e.seq);
      };
      const entry = async (seq: number): Promise<Entry> => ((await t.request(writer, 'GET', `/api/audit?after=${seq - 1}&limit=1`)).json() as { items: Entry[] }).items[0]!;

      it('carries control characters and bytes that are not UTF-8 through CSV and PDF exactly as stored, and both verify', async () => {
        expect(t.app.hasRoute({ method: 'GET', url: '/api/audit/export' }), 'GET /api/audit/export is served').toBe(true);
        const texts = [...CONTROLS.map((c) => `a${c}b`), CONTROLS.join(''), 'quote " comma , crlf \r\n end', 'Zoë 管理者 🔐 e\u0301', '\r\n', '"', ','];
        const seqs = await ingest(texts.map((s, i) => ({ action: 'sync.failed', resource: { type: 'sync_job', id: `ctl-${i}-${s}`, name: s }, actor: { type: 'worker', name: s }, details: { error_message: s, failed_secrets: [s] } })));
        // Raw bytes that are not UTF-8 inside JSON strings: the server reads them as U+FFFD.
        const raw = Buffer.concat([
          Buffer.from('{"events":[{"action":"sync.failed","resource":{"type":"sync_job","id":"bytes-1","name":"x'),
          Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x80]),
          Buffer.from('y"},"details":{"error_message":"'),
          Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
          Buffer.from('","failed_secrets":[]}}]}'),
        ]);
        const bytes = await t.request(writer, 'POST', '/api/audit/events', raw, { 'content-type': 'application/json' });
        expect([201, 400]).toContain(bytes.statusCode);
        if (bytes.statusCode === 201) seqs.push((bytes.json() as { entries: Array<{ seq: number }> }).entries[0]!.seq);

        const csvRes = await t.request(t.admin, 'GET', '/api/audit/export?format=csv');
        expect(csvRes.statusCode, csvRes.body.slice(0, 200)).toBe(200);
        expect(csvRes.headers['content-type']).toMatch(/^text\/csv/);
        const csvFile = join(dir, `export-${backend}.csv`);
        writeFileSync(csvFile, csvRes.rawPayload);
        const records = recordsOf(csvRes.rawPayload.toString('utf8'));
        expect(Buffer.from(csvRes.rawPayload.toString('utf8'), 'utf8').equals(csvRes.rawPayload), 'the CSV is valid UTF-8').toBe(true);
        const mismatches: string[] = [];
        for (const seq of seqs) {
          const e = await entry(seq);
          const r = records.get(seq);
          if (!r) {
            mismatches.push(`seq ${seq} is missing from the CSV`);
            continue;
          }
          const expected: Record<string, string> = { actor_name: guarded(e.actor.name ?? ''), resource_id: guarded(e.resource.id), resource_name: guarded(e.resource.name ?? ''), description: guarded(e.description), details: canonicalJson(e.details) };
          for (const [k, v] of Object.entries(expected)) if (r[k] !== v) mismatches.push(`seq ${seq} ${k}: CSV has ${JSON.stringify(r[k])}, the entry ${JSON.stringify(v)}`);
        }
        expect(mismatches).toEqual([]);
        const cli = await runCli(['verify', csvFile], {});
        expect(cli.code, cli.stdout + cli.stderr).toBe(0);
        // A changed byte in a record is caught.
        const text = readFileSync(csvFile, 'utf8');
        writeFileSync(join(dir, 'tampered.csv'), text.replace('ctl-', 'ctl_'));
        expect((await runCli(['verify', join(dir, 'tampered.csv')], {})).code).toBe(1);

        const pdfRes = await t.request(t.admin, 'GET', '/api/audit/export?format=pdf');
        expect(pdfRes.statusCode).toBe(200);
        expect(pdfRes.headers['content-type']).toBe('application/pdf');
        const pdfFile = join(dir, `export-${backend}.pdf`);
        writeFileSync(pdfFile, pdfRes.rawPayload);
        execFileSync('qpdf', ['--check', pdfFile], { stdio: 'pipe' });
        const pdfCli = await runCli(['verify', pdfFile], {});
        expect(pdfCli.code, pdfCli.stdout + pdfCli.stderr).toBe(0);
        const out = mkdtempSync(join(dir, 'detached-'));
        execFileSync('pdfdetach', ['-saveall', '-o', out, pdfFile], { stdio: 'pipe' });
        const embedded = recordsOf(readFileSync(join(out, 'audit-export.csv'), 'utf8'));
        // The embedded CSV holds the same records (same bytes, same row hashes) for every seq both cover.
        const differing = seqs.filter((s) => JSON.stringify(embedded.get(s)) !== JSON.stringify(records.get(s)));
        expect(differing).toEqual([]);
        recordFigures(`export-roundtrip-${backend}`, { fuzz_cases: texts.length + 1 });
      });

      it('neutralises spreadsheet formulas in every field (property)', async () => {
        let cases = 0;
        const formula = fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', ' =', '"=', "'="), fc.string({ unit: fc.constantFrom(...NASTY_CHARS.filter((c) => c !== '\u0000'), 'A', '1', '(', ')', '!', '|'), maxLength: 12 })).map(([a, b]) => `${a}${b}`);
        await fc.assert(
          fc.asyncProperty(formula, formula, formula, async (name, actor, note) => {
            cases += 1;
            const id = `formula-${cases}`;
            const [seq] = await ingest([{ action: 'sync.failed', resource: { type: 'sync_job', id, name }, actor: { type: 'worker', name: actor }, details: { error_message: note, failed_secrets: [] } }]);
            const res = await t.request(t.admin, 'GET', `/api/audit/export?format=csv&resource=${encodeURIComponent(id)}`);
            if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}`);
            const records = parseCsv(res.body);
            for (const record of records.slice(1, -1)) {
              const bad = record.filter((f) => FORMULA_START.test(f));
              if (bad.length > 0) throw new Error(`fields a spreadsheet would run: ${JSON.stringify(bad)}`);
            }
            const r = recordsOf(res.body).get(seq!);
            const e = await entry(seq!);
            if (r?.resource_name !== guarded(e.resource.name ?? '') || r.actor_name !== guarded(e.actor.name ?? '')) throw new Error(`guarded values do not round-trip: ${JSON.stringify(r)}`);
          }),
          { numRuns: RUNS },
        );
        recordFigures(`export-formula-${backend}`, { fuzz_cases: cases });
      });

      it('never lets a tenant name inject into Content-Disposition or add headers (property)', async () => {
        let cases = 0;
        const tenant = fc.string({ unit: fc.constantFrom(...CONTROLS, '"', ';', '\\', '/', '.', '=', '*', "'", '%', '?', 'é', '管', 'a', 'Z', ' ', 'filename*=UTF-8\'\'evil.exe', '\r\nSet-Cookie: x=1', '../'), minLength: 1, maxLength: 20 });
        await fc.assert(
          fc.asyncProperty(tenant, fc.constantFrom('csv', 'pdf'), async (name, format) => {
            cases += 1;
            const put = await t.request(t.admin, 'PUT', '/api/settings', { tenant_name: name });
            if (put.statusCode !== 200 && put.statusCode !== 400) throw new Error(`PUT /api/settings answered ${put.statusCode}`);
            const res = await t.request(t.admin, 'GET', `/api/audit/export?format=${format}&action=auth.logout`);
            if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}`);
            const cd = String(res.headers['content-disposition']);
            if (!/^attachment; filename="trailmark-audit_[A-Za-z0-9._-]+_\d{4}-\d{2}-\d{2}T\d{6}Z\.(csv|pdf)"$/.test(cd)) throw new Error(`Content-Disposition: ${JSON.stringify(cd)}`);
            const injected = Object.keys(res.headers).filter((h) => ['set-cookie', 'x-injected', 'location', 'refresh'].includes(h));
            if (injected.length > 0) throw new Error(`headers nobody set: ${injected.join(', ')}`);
          }),
          { numRuns: RUNS },
        );
        recordFigures(`export-disposition-${backend}`, { fuzz_cases: cases });
      });

      it('lets only admins export (auditors only when the setting allows it)', async () => {
        await t.request(t.admin, 'PUT', '/api/settings', { auditors_may_export: false });
        const answers: Record<string, number> = {};
        const callers: Array<[string, Caller]> = [
          ['anonymous', ANONYMOUS],
          ['viewer', await t.userWithRole('viewer')],
          ['operator', await t.userWithRole('operator')],
          ['auditor', await t.userWithRole('auditor')],
          ['token audit:read', await t.token(['audit:read'])],
          ['token audit:write', await t.token(['audit:write'])],
          ['admin', t.admin],
        ];
        for (const [who, caller] of callers) for (const format of ['csv', 'pdf']) answers[`${who} ${format}`] = (await t.request(caller, 'GET', `/api/audit/export?format=${format}`)).statusCode;
        expect(answers).toEqual({
          'anonymous csv': 401, 'anonymous pdf': 401,
          'viewer csv': 403, 'viewer pdf': 403,
          'operator csv': 403, 'operator pdf': 403,
          'auditor csv': 403, 'auditor pdf': 403,
          'token audit:read csv': 403, 'token audit:read pdf': 403,
          'token audit:write csv': 403, 'token audit:write pdf': 403,
          'admin csv': 200, 'admin pdf': 200,
        });
        await t.request(t.admin, 'PUT', '/api/settings', { auditors_may_export: true });
        const auditor = callers.find(([who]) => who === 'auditor')![1];
        expect((await t.request(auditor, 'GET', '/api/audit/export?format=csv')).statusCode).toBe(200);
        const viewer = callers.find(([who]) => who === 'viewer')![1];
        expect((await t.request(viewer, 'GET', '/api/audit/export?format=csv')).statusCode).toBe(403);
      });
    });
  }
});
