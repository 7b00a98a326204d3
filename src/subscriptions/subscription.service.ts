import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { RequestContext } from '../audit/audit.service.js';
import { actorOf } from '../audit/audit.service.js';
import type { Clock } from '../lib/clock.js';
import { AppError, invalid, notFound } from '../lib/errors.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { isUniqueViolation } from '../store/sql-errors.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Subscription {
  subscription_id: string;
  display_name: string | null;
  added_by: string;
  created_at: number;
}

/** The cloud subscriptions Trailmark watches; adding and removing one is audited. */
export class SubscriptionService {
  constructor(
    private readonly db: SqlDatabase,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  list(): Promise<Subscription[]> {
    return this.db.all<Subscription>('SELECT subscription_id, display_name, added_by, created_at FROM subscriptions ORDER BY created_at, subscription_id');
  }

  async add(input: { subscription_id: string; display_name?: string }, ctx: RequestContext): Promise<Subscription> {
    const id = input.subscription_id.trim().toLowerCase();
    if (!GUID.test(id)) throw invalid('subscription_id must be a GUID like 0f8fad5b-d9cb-469f-a165-70867728950e', { field: 'body.subscription_id' });
    const actor = actorOf(ctx.principal);
    const row: Subscription = { subscription_id: id, display_name: input.display_name ?? null, added_by: actor.name ?? 'unknown', created_at: this.clock.now() };
    await this.recorder.record(
      {
        action: 'subscription.added',
        actor,
        resource: { id, name: row.display_name },
        details: { subscription_id: id, added_by: row.added_by, ...(row.display_name ? { display_name: row.display_name } : {}) },
        source: { ip: ctx.ip, user_agent: ctx.userAgent },
        requestId: ctx.requestId,
      },
      async (tx) => {
        try {
          await tx.run('INSERT INTO subscriptions (subscription_id, display_name, added_by, created_at) VALUES (?, ?, ?, ?)', [id, row.display_name, row.added_by, row.created_at]);
        } catch (err) {
          if (isUniqueViolation(err)) throw new AppError('conflict', `Subscription ${id} is already watched.`);
          throw err;
        }
      },
    );
    return row;
  }

  async remove(rawId: string, ctx: RequestContext): Promise<void> {
    const id = rawId.trim().toLowerCase();
    const existing = await this.db.get<Subscription>('SELECT subscription_id, display_name FROM subscriptions WHERE subscription_id = ?', [id]);
    if (!existing) throw notFound(`Subscription ${id}`);
    const actor = actorOf(ctx.principal);
    await this.recorder.record(
      {
        action: 'subscription.removed',
        actor,
        resource: { id, name: existing.display_name },
        details: { subscription_id: id, removed_by: actor.name ?? 'unknown' },
        source: { ip: ctx.ip, user_agent: ctx.userAgent },
        requestId: ctx.requestId,
      },
      async (tx) => {
        if ((await tx.run('DELETE FROM subscriptions WHERE subscription_id = ?', [id])) === 0) throw notFound(`Subscription ${id}`);
      },
    );
  }
}
