import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../app.js';
import type { Core } from '../app.js';
import { ManualClock } from '../lib/clock.js';
import { BACKENDS, freshDatabaseUrl } from '../../test/support/backends.js';
import type { TestDatabase } from '../../test/support/backends.js';
import { SAMPLE_DETAILS, buildEvent } from '../../test/support/audit-fixtures.js';
import type { StoredEntry } from './audit-entry.js';
import { entryMatches } from './audit-live-filter.js';
import type { AuditFilter } from './audit.store.js';

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

function entry(overrides: Partial<StoredEntry> = {}): StoredEntry {
  return {
    id: '01900000-0000-7000-8000-000000000001',
    seq: 7,
    ts: T0,
    occurred_at: null,
    action: 'rotation.failed',
    category: 'rotation',
    severity: 'error',
    actor: { type: 'worker', id: 'tok-1', name: 'rotation-worker' },
    resource: { type: 'secret', id: 'db-password', name: 'Billing DB password' },
    description: 'Rotation of db-password failed: vault unreachable',
    detailsJson: '{}',
    source: { ip: null, user_agent: null, token_id: null },
    request_id: null,
    prev_hash: '0'.repeat(64),
    hash: '1'.repeat(64),
    ...overrides,
  };
}

describe('entryMatches', () => {
  it('matches everything with an empty filter', () => {
    expect(entryMatches({}, entry())).toBe(true);
  });

  it('bounds the recorded time inclusively', () => {
    expect(entryMatches({ start: T0, end: T0 }, entry())).toBe(true);
    expect(entryMatches({ start: T0 + 1 }, entry())).toBe(false);
    expect(entryMatches({ end: T0 - 1 }, entry())).toBe(false);
  });

  it('checks actions, severities, actor type exactly (any listed value may match)', () => {
    expect(entryMatches({ actions: ['rotation.started', 'rotation.failed'] }, entry())).toBe(true);
    expect(entryMatches({ actions: ['rotation.started'] }, entry())).toBe(false);
    expect(entryMatches({ severities: ['warning', 'error'] }, entry())).toBe(true);
    expect(entryMatches({ severities: ['info'] }, entry())).toBe(false);
    expect(entryMatches({ actorType: 'worker' }, entry())).toBe(true);
    expect(entryMatches({ actorType: 'user' }, entry())).toBe(false);
  });

  it('matches the actor by name or id, and the resource by type, id or name, exactly', () => {
    expect(entryMatches({ actor: 'rotation-worker' }, entry())).toBe(true);
    expect(entryMatches({ actor: 'tok-1' }, entry())).toBe(true);
    expect(entryMatches({ actor: 'rotation' }, entry())).toBe(false);
    for (const r of ['secret', 'db-password', 'Billing DB password']) expect(entryMatches({ resource: r }, entry()), r).toBe(true);
    expect(entryMatches({ resource: 'billing' }, entry())).toBe(false);
  });

  it('searches words by prefix over action, actor, description and resource; all words must match', () => {
    expect(entryMatches({ searchTokens: ['rotat'] }, entry())).toBe(true);
    expect(entryMatches({ searchTokens: ['unreach', 'billing'] }, entry())).toBe(true);
    expect(entryMatches({ searchTokens: ['password'] }, entry())).toBe(true);
    expect(entryMatches({ searchTokens: ['worker'] }, entry())).toBe(true);
    expect(entryMatches({ searchTokens: ['assword'] }, entry()), 'a prefix, not a substring').toBe(false);
    expect(entryMatches({ searchTokens: ['billing', 'nope'] }, entry())).toBe(false);
    expect(entryMatches({ searchTokens: ['cafe'] }, entry({ description: 'Café closed' })), 'accents fold').toBe(true);
  });

  it('needs every given criterion', () => {
    expect(entryMatches({ actions: ['rotation.failed'], severities: ['info'] }, entry())).toBe(false);
    expect(entryMatches({ actions: ['rotation.failed'], severities: ['error'], actor: 'tok-1', searchTokens: ['db'] }, entry())).toBe(true);
  });
});

/** The live filter must show exactly what GET /api/audit lists for the same filter. */
describe.each(BACKENDS)('entryMatches agrees with the store (%s)', (backend) => {
  let tdb: TestDatabase;
  let core: Core;
  let stored: StoredEntry[];
  const actions = Object.keys(SAMPLE_DETAILS).filter((a) => !a.startsWith('audit.'));
  const actors = [
    { type: 'worker' as const, id: 'tok-1', name: 'rotation-worker' },
    { type: 'user' as const, id: 'u-1', name: 'alice' },
    { type: 'system' as const, id: 'system', name: 'system' },
  ];

  beforeAll(async () => {
    tdb = await freshDatabaseUrl(backend);
    const clock = new ManualClock(T0);
    core = await openCore({ databaseUrl: tdb.url, clock, secretKey: 'live-filter-test-secret-0123456789abcdef' });
    const events = Array.from({ length: 60 }, (_, i) =>
      buildEvent(actions[i % actions.length]!, { actor: actors[i % 3]!, resource: { id: `res-${i % 7}`, name: i % 2 ? `Vault kv-${i % 5}` : null } }),
    );
    stored = [];
    for (let i = 0; i < events.length; i += 10) {
      clock.advance(60_000);
      stored.push(...(await core.recorder.recordBatch(events.slice(i, i + 10))));
    }
  });
  afterAll(async () => {
    await core.close();
    await tdb.cleanup();
  });

  // Up to two criteria at a time, so most filters still select something worth comparing.
  const criteria = fc.record({
    start: fc.integer({ min: 0, max: 7 }).map((m) => T0 + m * 60_000),
    end: fc.integer({ min: 0, max: 7 }).map((m) => T0 + m * 60_000),
    actions: fc.subarray(actions, { minLength: 1, maxLength: 4 }),
    actor: fc.constantFrom('alice', 'tok-1', 'system', 'nobody'),
    actorType: fc.constantFrom('user' as const, 'worker' as const, 'system' as const),
    severities: fc.subarray(['info', 'warning', 'error', 'critical'] as const, { minLength: 1 }),
    resource: fc.constantFrom('res-1', 'Vault kv-3', 'secret', 'user'),
    searchTokens: fc.subarray(['rot', 'alice', 'kv', 'vault', 'failed', 'res', 'sync', 'login', 'db'], { minLength: 1, maxLength: 2 }),
  });
  const KEYS = ['start', 'end', 'actions', 'actor', 'actorType', 'severities', 'resource', 'searchTokens'] as const;
  const filterArb: fc.Arbitrary<AuditFilter> = fc
    .tuple(criteria, fc.subarray([...KEYS], { maxLength: 2 }))
    .map(([all, keys]) => Object.fromEntries(keys.map((k) => [k, all[k]])) as AuditFilter);

  it('for random filters', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(filterArb, async (filter) => {
        const page = await core.auditStore.page(filter, { order: 'oldest', limit: 1000, afterSeq: 0 });
        expect(stored.filter((e) => entryMatches(filter, e)).map((e) => e.seq)).toEqual(page.items.map((e) => e.seq));
        if (page.items.length > 0) nonEmpty += 1;
      }),
      { numRuns: 150 },
    );
    // The comparison means something only if many filters select some entries.
    expect(nonEmpty).toBeGreaterThan(20);
  });
});
