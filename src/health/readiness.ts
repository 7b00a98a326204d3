import type { Core } from '../app.js';
import { schemaStatus } from '../store/migrator.js';

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly reason?: string;
}

/** A due delivery older than this means no worker is delivering. */
const OUTBOX_STUCK_MS = 15 * 60_000;

/**
 * Whether this node can serve: the store is writable, the schema is current, the signing key
 * opens with this SECRET_KEY, and the webhook outbox is moving. Each check says why it fails. Extra checks (e.g. the signing key) can be
 * registered by other modules.
 */
export class Readiness {
  private readonly extra = new Map<string, () => Promise<ReadinessCheck>>();

  constructor(private readonly core: Core) {}

  register(name: string, check: () => Promise<ReadinessCheck>): void {
    this.extra.set(name, check);
  }

  async check(): Promise<{ ready: boolean; checks: Record<string, ReadinessCheck> }> {
    const checks: Record<string, ReadinessCheck> = {};
    const run = async (name: string, fn: () => Promise<ReadinessCheck>): Promise<void> => {
      try {
        checks[name] = await fn();
      } catch (err) {
        checks[name] = { ok: false, reason: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
      }
    };
    await run('store_writable', async () => {
      await this.core.db.ping();
      return { ok: true };
    });
    await run('migrations', async () => {
      const s = await schemaStatus(this.core.db);
      return s.current === s.expected ? { ok: true } : { ok: false, reason: `schema is at version ${s.current}, this build needs ${s.expected}` };
    });
    await run('outbox', async () => {
      const oldest = await this.core.outbox.oldestDue();
      const late = oldest === null ? 0 : this.core.clock.now() - oldest;
      return late > OUTBOX_STUCK_MS ? { ok: false, reason: `a webhook delivery has waited ${Math.round(late / 60_000)} minutes past its time` } : { ok: true };
    });
    await run('signing_key', async () => {
      await this.core.signingKeys.current();
      return { ok: true };
    });
    for (const [name, fn] of this.extra) await run(name, fn);
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }
}
