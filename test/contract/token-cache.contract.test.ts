import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_CACHE_MS, TokenStore } from '../../src/tokens/token.store.js';
import { openTestStore } from '../support/test-store.js';
import type { TestStore } from '../support/test-store.js';
import { BACKENDS } from '../support/backends.js';

const ID = '0190a0a0-0000-7000-8000-000000000001';

for (const backend of BACKENDS) {
  describe(`API token authentication cache (${backend})`, () => {
    let t: TestStore;
    // Two nodes sharing one database: each has its own cache.
    let nodeA: TokenStore;
    let nodeB: TokenStore;
    let token: string;

    beforeEach(async () => {
      t = await openTestStore(backend);
      nodeA = new TokenStore(t.db);
      nodeB = new TokenStore(t.db);
      token = (await nodeA.create(t.db, ID, 'scanner', ['audit:write'], null, t.clock.now())).token;
    });
    afterEach(() => t.close());

    it('refuses a revoked token at once on the revoking node', async () => {
      expect((await nodeA.authenticate(token, t.clock.now()))?.id).toBe(ID);
      expect(await t.db.transaction((tx) => nodeA.revoke(tx, ID, t.clock.now()))).toBe(true);
      expect(await nodeA.authenticate(token, t.clock.now())).toBeUndefined();
    });

    it('refuses a token revoked on another node within the cache time', async () => {
      expect((await nodeB.authenticate(token, t.clock.now()))?.id).toBe(ID);
      await t.db.transaction((tx) => nodeA.revoke(tx, ID, t.clock.now()));
      t.clock.advance(TOKEN_CACHE_MS);
      expect(await nodeB.authenticate(token, t.clock.now())).toBeUndefined();
      // And it stays refused: the refusal is not cached as a success.
      t.clock.advance(1);
      expect(await nodeB.authenticate(token, t.clock.now())).toBeUndefined();
    });

    it('never serves a different secret for the same token id from the cache', async () => {
      expect((await nodeA.authenticate(token, t.clock.now()))?.id).toBe(ID);
      const forged = `${token.slice(0, token.indexOf('.') + 1)}${'A'.repeat(43)}`;
      expect(await nodeA.authenticate(forged, t.clock.now())).toBeUndefined();
    });

    it('does not trust a cached entry when the clock moves backwards', async () => {
      expect((await nodeB.authenticate(token, t.clock.now()))?.id).toBe(ID);
      await t.db.transaction((tx) => nodeA.revoke(tx, ID, t.clock.now()));
      t.clock.set(t.clock.now() - 60_000);
      expect(await nodeB.authenticate(token, t.clock.now())).toBeUndefined();
    });
  });
}
