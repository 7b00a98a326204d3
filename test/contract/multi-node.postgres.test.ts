import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';
import { startServerProcess } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';

const ADMIN_PASSWORD = 'multi-node-admin-password';
const NODES = 3;
const CLIENTS_PER_NODE = 6;
const REQUESTS_PER_CLIENT = 15;

async function json<T>(res: Response): Promise<T> {
  const body = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${body}`);
  return JSON.parse(body) as T;
}

describe('several Trailmark nodes on one PostgreSQL', () => {
  let tdb: TestDatabase;
  let nodes: ServerProcess[] = [];

  beforeAll(async () => {
    tdb = await freshDatabaseUrl('postgres');
    const env = { DATABASE_URL: tdb.url, TRAILMARK_ADMIN_PASSWORD: ADMIN_PASSWORD, SECRET_KEY: 'multi-node-test-secret-key-0123456789abcdef' };
    // Started together on an empty schema: migrations and the first admin must happen once.
    nodes = await Promise.all(Array.from({ length: NODES }, () => startServerProcess(env)));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await tdb.cleanup();
  });

  it('keeps one linear chain while all nodes append at once', async () => {
    const login = await fetch(`${nodes[0]!.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const { csrf_token } = await json<{ csrf_token: string }>(login);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const admin = { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' };
    const { token } = await json<{ token: string }>(await fetch(`${nodes[1]!.url}/api/tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'load', scopes: ['audit:write'] }) }));

    const acknowledged: Array<{ seq: number; hash: string }> = [];
    let sent = 0;
    await Promise.all(
      nodes.flatMap((node) =>
        Array.from({ length: CLIENTS_PER_NODE }, async (_, c) => {
          for (let r = 0; r < REQUESTS_PER_CLIENT; r++) {
            const size = 1 + ((c * 7 + r * 3) % 12);
            const events = Array.from({ length: size }, (_, i) => ({
              action: 'discovery.scan.completed',
              resource: { type: 'scan', id: `${node.url}-${c}-${r}-${i}` },
              details: SAMPLE_DETAILS['discovery.scan.completed'],
            }));
            sent += size;
            const res = await fetch(`${node.url}/api/audit/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
            acknowledged.push(...(await json<{ entries: Array<{ seq: number; hash: string }> }>(res)).entries);
          }
        }),
      ),
    );

    expect(acknowledged).toHaveLength(sent);
    const seqs = acknowledged.map((e) => e.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(seqs.length);

    const verify = await json<{ ok: boolean; checked: number; to_seq: number; first_bad_seq: number | null }>(
      await fetch(`${nodes[2]!.url}/api/audit/verify`, { headers: admin }),
    );
    expect(verify).toMatchObject({ ok: true, first_bad_seq: null });
    expect(verify.checked).toBe(verify.to_seq);
    const stored = await json<{ total: { count: number } }>(await fetch(`${nodes[0]!.url}/api/audit?action=discovery.scan.completed&include_total=true&limit=1`, { headers: admin }));
    expect(stored.total.count).toBe(sent);
    const admins = await json<{ items: unknown[] }>(await fetch(`${nodes[0]!.url}/api/audit?action=user.created`, { headers: admin }));
    expect(admins.items).toHaveLength(1);
    const starts = await json<{ items: unknown[] }>(await fetch(`${nodes[0]!.url}/api/audit?action=system.started`, { headers: admin }));
    expect(starts.items).toHaveLength(NODES);
  }, 120_000);
});
