import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_PG_URL, freshDatabaseUrl } from '../support/backends.js';
import type { ServerProcess } from '../support/server-process.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { recordFigures } from './helpers/figures.js';
import { call, createToken, eventually, signIn } from './helpers/http.js';
import type { HttpAnswer } from './helpers/http.js';
import type { StoredRow } from './helpers/ingest-load.js';
import { STORED_ROWS_SQL, checkStoredBatches, startIngestLoad } from './helpers/ingest-load.js';
import { ADMIN_PASSWORD, startNode, withDatabase } from './helpers/nodes.js';

/** A store that can be made unable to write, and made whole again, under a running server. */
interface Outage {
  readonly label: string;
  /** What the server is started with. */
  readonly serverUrl: string;
  /** What the test reads the store through (never cut). */
  readonly directUrl: string;
  break(): Promise<void>;
  restore(): Promise<void>;
  cleanup(): Promise<void>;
}

/** SQLite whose database and WAL files are made immutable (chattr +i): every write fails with EPERM, reads go on. */
async function readOnlyFile(): Promise<Outage> {
  const dir = mkdtempSync(join(tmpdir(), 'trailmark-readonly-'));
  const file = join(dir, 'trailmark.db');
  const chattr = (flag: string): void => {
    const files = [file, `${file}-wal`].filter((f) => existsSync(f));
    try {
      execFileSync('chattr', [flag, ...files], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`this test makes the database file immutable with chattr ${flag}: it needs root and a file system with inode flags (ext4, xfs, btrfs) under ${tmpdir()} (${String(err)})`);
    }
  };
  return {
    label: 'SQLite file made read-only (chattr +i on the database and its WAL)',
    serverUrl: `sqlite:${file}`,
    directUrl: `sqlite:${file}`,
    break: async () => chattr('+i'),
    restore: async () => chattr('-i'),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** PostgreSQL behind a TCP proxy that is cut (connections dropped and refused), then restored. */
async function stoppedPostgres(): Promise<Outage> {
  const tdb = await freshDatabaseUrl('postgres');
  const target = new URL(TEST_PG_URL);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(tdb.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  return {
    label: 'PostgreSQL stopped',
    serverUrl: viaProxy.toString(),
    directUrl: tdb.url,
    break: () => proxy.cut(),
    restore: () => proxy.restore(),
    async cleanup() {
      await proxy.close();
      await tdb.cleanup();
    },
  };
}

const OUTAGE_TENANT = 'Changed during the outage';
const OUTAGE_USER = 'outage-user';
const OUTAGE_RULE = 'outage rule';

/** The error code of an answer, or what the answer was instead of an error body. */
function errorCode(res: HttpAnswer): string {
  try {
    return (JSON.parse(res.text) as { error?: { code?: string } }).error?.code ?? `no error code in ${res.text.slice(0, 60)}`;
  } catch {
    return `not an error body: ${res.headers.get('content-type')} ${res.text.slice(0, 40)}`;
  }
}

describe.each([
  ['sqlite', readOnlyFile],
  ['postgres', stoppedPostgres],
] as const)('failing closed when the store cannot write (%s)', (backend, makeOutage) => {
  let outage: Outage | undefined;
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    await outage?.restore();
    await outage?.cleanup();
  });

  it('refuses audited actions and ingest with 503 without doing them, keeps every acknowledged event, reports it at /readyz and recovers by itself', async () => {
    outage = await makeOutage();
    server = await startNode(outage.serverUrl);
    const base = server.url;
    const admin = await signIn(base, 'admin', ADMIN_PASSWORD);
    const writer = await createToken(base, admin, ['audit:write']);
    const victim = await createToken(base, admin, ['audit:read'], 'outage-victim');
    const viewer = await call(base, admin, 'POST', '/api/users', { username: 'outage-viewer', password: 'outage-viewer-password', role: 'viewer' });
    expect(viewer.status, viewer.text).toBe(201);
    const viewerId = viewer.json<{ id: string }>().id;

    const load = startIngestLoad({ base, writer, prefix: 'fc', clients: 4, maxBatch: 20, pauseMs: 25 });
    await load.firstAck;
    await new Promise((r) => setTimeout(r, 500));
    const brokenFrom = load.batches.length;
    await outage.break();
    await eventually('ingest to be refused', async () => (load.batches.slice(brokenFrom).some((b) => b.status === 503) ? true : undefined), 30_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}; statuses since: ${load.batches.slice(brokenFrom, brokenFrom + 20).map((b) => b.status ?? 'pending').join(',')}; server exit ${server?.child.exitCode}: ${server?.stderr().slice(-3000)}`);
    });

    // Every action that must be audited is refused, and (checked below) not performed.
    const attempts: Record<string, HttpAnswer> = {
      'PUT /api/settings': await call(base, admin, 'PUT', '/api/settings', { tenant_name: OUTAGE_TENANT }),
      'POST /api/users': await call(base, admin, 'POST', '/api/users', { username: OUTAGE_USER, password: 'outage-user-password', role: 'viewer' }),
      'PATCH /api/users/{id}': await call(base, admin, 'PATCH', `/api/users/${viewerId}`, { role: 'auditor' }),
      'DELETE /api/tokens/{id}': await call(base, admin, 'DELETE', `/api/tokens/${victim.id}`),
      'POST /api/alert-rules': await call(base, admin, 'POST', '/api/alert-rules', { name: OUTAGE_RULE, event_types: ['auth.*'], channel: { type: 'webhook', url: 'http://127.0.0.1:9/hook' } }),
    };
    attempts['GET /api/audit/export'] = await call(base, admin, 'GET', '/api/audit/export?format=csv');
    for (const [what, res] of Object.entries(attempts)) {
      expect({ what, status: res.status, code: errorCode(res) }).toEqual({ what, status: 503, code: 'store_unavailable' });
    }
    const ingestDuring = load.batches.slice(brokenFrom).filter((b) => b.status === 503);
    expect(ingestDuring.length).toBeGreaterThan(0);

    // Liveness stays up (restarting would not help); readiness says what is wrong.
    const health = await call(base, null, 'GET', '/healthz');
    expect(health.status).toBe(200);
    const ready = await call(base, null, 'GET', '/readyz');
    const readyBody = ready.json<{ status: string; checks: Record<string, { ok: boolean; reason?: string }> }>();
    expect.soft({ status: ready.status, store_writable: readyBody.checks.store_writable?.ok }, `/readyz while the store cannot write: ${ready.text}`).toEqual({ status: 503, store_writable: false });
    expect.soft(readyBody.checks.store_writable?.reason ?? '', 'the reason /readyz gives').not.toBe('');

    const restoredFrom = load.batches.length;
    await outage.restore();
    const restoredAt = Date.now();
    // Recovery needs no restart: the same process answers again.
    await eventually('ingest to be acknowledged again', async () => (load.batches.slice(restoredFrom).some((b) => b.status === 201) ? true : undefined), 30_000, 100);
    await eventually('/readyz to be ready again', async () => ((await call(base, null, 'GET', '/readyz')).status === 200 ? true : undefined), 30_000, 250);
    const recoveredMs = Date.now() - restoredAt;
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    expect(server.child.exitCode).toBeNull();

    // Nothing refused was performed.
    const settings = await call(base, admin, 'GET', '/api/settings');
    expect(settings.json<{ settings: { tenant_name: string } }>().settings.tenant_name).not.toBe(OUTAGE_TENANT);
    const users = (await call(base, admin, 'GET', '/api/users')).json<{ users: Array<{ username: string; role: string }> }>().users;
    expect(users.find((u) => u.username === OUTAGE_USER)).toBeUndefined();
    expect(users.find((u) => u.username === 'outage-viewer')?.role).toBe('viewer');
    expect((await call(base, victim, 'GET', '/api/audit?limit=1')).status).toBe(200);
    const rules = (await call(base, admin, 'GET', '/api/alert-rules')).json<{ rules: Array<{ name: string }> }>().rules;
    expect(rules.map((r) => r.name)).not.toContain(OUTAGE_RULE);

    // The audit trail agrees: no entry for what was refused; every acknowledged event kept; nothing half-stored.
    const { rows, details } = await withDatabase(outage.directUrl, async (db) => ({
      rows: await db.all<StoredRow>(STORED_ROWS_SQL),
      details: await db.all<{ action: string; details: string }>(
        "SELECT action, details FROM audit_entries WHERE action IN ('settings.updated', 'user.created', 'user.updated', 'auth.token.revoked', 'alert.rule.created', 'audit.exported')",
      ),
    }));
    const refusedTrace = details.filter((d) => d.details.includes(OUTAGE_TENANT) || d.details.includes(OUTAGE_USER) || d.details.includes(OUTAGE_RULE) || d.action === 'auth.token.revoked' || d.action === 'user.updated' || d.action === 'audit.exported');
    expect(refusedTrace).toEqual([]);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    const { problems, unackedStored, unackedAbsent } = checkStoredBatches(rows, load.batches, 'fc');
    expect(problems).toEqual([]);
    expect(load.batches.filter((b) => b.status !== 201 && b.status !== 503).map((b) => `${b.id}: ${b.status}`)).toEqual([]);
    const verify = await call(base, admin, 'GET', '/api/audit/verify');
    expect(verify.json<{ ok: boolean }>(), verify.text).toMatchObject({ ok: true });

    // And audited actions work again.
    const after = await call(base, admin, 'PUT', '/api/settings', { tenant_name: 'After the outage' });
    expect(after.status, after.text).toBe(200);

    recordFigures(`fail-closed-${backend}`, { events_acknowledged: load.acknowledged() }, {
      outage: outage.label,
      ingest_requests_refused_503: load.batches.filter((b) => b.status === 503).length,
      refused_requests_stored_anyway_in_full: unackedStored,
      refused_requests_not_stored: unackedAbsent,
      audited_actions_refused: Object.keys(attempts).length,
      recovered_within_ms: recoveredMs,
    });
  }, 180_000);
});

/** Fills the file system holding `dir` to the last byte it will take. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 0x78);
  try {
    for (let size = chunk.length; size >= 512; ) {
      try {
        writeSync(fd, chunk, 0, size);
      } catch {
        size = Math.floor(size / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('SQLite on a really full disk (a small tmpfs filled to the last byte)', () => {
  let mnt: string | undefined;
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    if (mnt) {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  // On a full disk SQLite can still commit what fits in WAL space a failed write already took,
  // so some writes succeed and others fail. What must hold is that each is all or nothing.
  it('does each audited action and its entry together or neither, exports only what it can audit, keeps acknowledged events, and recovers', async () => {
    mnt = mkdtempSync(join(tmpdir(), 'trailmark-full-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`this test fills a real file system: it mounts a 32 MB tmpfs, so it must run as root with CAP_SYS_ADMIN (${String(err)})`);
    }
    const url = `sqlite:${join(mnt, 'trailmark.db')}`;
    server = await startNode(url);
    const base = server.url;
    const admin = await signIn(base, 'admin', ADMIN_PASSWORD);
    const writer = await createToken(base, admin, ['audit:write']);
    const load = startIngestLoad({ base, writer, prefix: 'fd', clients: 4, maxBatch: 40, pauseMs: 10 });
    await load.firstAck;
    await new Promise((r) => setTimeout(r, 500));
    const fullFrom = load.batches.length;
    fillDisk(join(mnt, 'filler'));

    const tries: Array<{ kind: 'settings' | 'user' | 'export'; key: string; status: number; code: string | null }> = [];
    const readiness: number[] = [];
    const until = Date.now() + 4_000;
    for (let i = 0; Date.now() < until; i++) {
      const tenant = `Full disk ${i}`;
      const s = await call(base, admin, 'PUT', '/api/settings', { tenant_name: tenant });
      tries.push({ kind: 'settings', key: tenant, status: s.status, code: s.status >= 400 ? errorCode(s) : null });
      const username = `full-disk-${i}`;
      const u = await call(base, admin, 'POST', '/api/users', { username, password: 'full-disk-password', role: 'viewer' });
      tries.push({ kind: 'user', key: username, status: u.status, code: u.status >= 400 ? errorCode(u) : null });
      const e = await call(base, admin, 'GET', `/api/audit/export?format=csv&q=full${i}`);
      tries.push({ kind: 'export', key: `full${i}`, status: e.status, code: e.status >= 400 ? errorCode(e) : null });
      readiness.push((await call(base, null, 'GET', '/readyz')).status);
    }
    const refusedIngest = load.batches.slice(fullFrom).filter((b) => b.status === 503).length;
    expect(refusedIngest, 'ingest refused while the disk is full').toBeGreaterThan(0);
    expect(readiness, '/readyz said not ready at least once while writes failed').toContain(503);
    expect(tries.filter((t) => !(t.status < 300 || (t.status === 503 && t.code === 'store_unavailable')))).toEqual([]);
    expect(tries.some((t) => t.status === 503), 'some audited action was refused').toBe(true);

    rmSync(join(mnt, 'filler'));
    const freedFrom = load.batches.length;
    await eventually('ingest to be acknowledged again', async () => (load.batches.slice(freedFrom).some((b) => b.status === 201) ? true : undefined), 30_000, 100);
    await eventually('/readyz to be ready again', async () => ((await call(base, null, 'GET', '/readyz')).status === 200 ? true : undefined), 30_000, 250);
    await load.stop();

    const { rows, entries } = await withDatabase(url, async (db) => ({
      rows: await db.all<StoredRow>(STORED_ROWS_SQL),
      entries: await db.all<{ action: string; details: string }>("SELECT action, details FROM audit_entries WHERE action IN ('settings.updated', 'user.created', 'audit.exported', 'audit.export.failed')"),
    }));
    const users = new Set((await call(base, admin, 'GET', '/api/users')).json<{ users: Array<{ username: string }> }>().users.map((u) => u.username));
    const mismatches: string[] = [];
    for (const t of tries) {
      const done = t.status < 300;
      if (t.kind === 'settings') {
        const audited = entries.some((e) => e.action === 'settings.updated' && (JSON.parse(e.details) as { new_value: unknown }).new_value === t.key);
        if (audited !== done) mismatches.push(`settings ${t.key}: answered ${t.status}, audited ${audited}`);
      } else if (t.kind === 'user') {
        const audited = entries.some((e) => e.action === 'user.created' && (JSON.parse(e.details) as { username: string }).username === t.key);
        if (audited !== done || users.has(t.key) !== done) mismatches.push(`user ${t.key}: answered ${t.status}, audited ${audited}, exists ${users.has(t.key)}`);
      } else {
        const outcome = entries.find((e) => (e.action === 'audit.exported' || e.action === 'audit.export.failed') && e.details.includes(`"q":"${t.key}"`));
        if ((outcome?.action === 'audit.exported') !== done) mismatches.push(`export ${t.key}: answered ${t.status}, recorded ${outcome?.action ?? 'nothing'}`);
      }
    }
    expect(mismatches).toEqual([]);
    const { problems } = checkStoredBatches(rows, load.batches, 'fd');
    expect(problems).toEqual([]);
    expect(load.batches.filter((b) => b.status !== 201 && b.status !== 503).map((b) => `${b.id}: ${b.status}`)).toEqual([]);
    const verify = await call(base, admin, 'GET', '/api/audit/verify');
    expect(verify.json<{ ok: boolean }>(), verify.text).toMatchObject({ ok: true });

    recordFigures('fail-closed-sqlite-full-disk', { events_acknowledged: load.acknowledged() }, {
      ingest_requests_refused_503: load.batches.filter((b) => b.status === 503).length,
      audited_actions_tried: tries.length,
      audited_actions_refused: tries.filter((t) => t.status === 503).length,
      audited_actions_done: tries.filter((t) => t.status < 300).length,
      readyz_not_ready: readiness.filter((s) => s === 503).length,
      readyz_ready: readiness.filter((s) => s === 200).length,
    });
  }, 180_000);
});
