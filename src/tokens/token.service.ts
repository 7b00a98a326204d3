import { v7 as uuidv7 } from 'uuid';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { Scope } from '../auth/access.js';
import type { Clock } from '../lib/clock.js';
import { invalid, notFound } from '../lib/errors.js';
import type { TokenRecord, TokenStore } from './token.store.js';
import type { RequestContext } from '../audit/audit.service.js';
import { actorOf } from '../audit/audit.service.js';

/** Creating and revoking API tokens, each audited. The secret is returned once, never stored. */
export class TokenService {
  constructor(
    private readonly tokens: TokenStore,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  async create(name: string, scopes: readonly Scope[], ctx: RequestContext | null): Promise<{ record: TokenRecord; token: string }> {
    const unique = [...new Set(scopes)];
    if (unique.length === 0) throw invalid('scopes must name at least one scope', { field: 'body.scopes' });
    const actor = ctx ? actorOf(ctx.principal) : { type: 'system' as const, id: 'cli', name: 'trailmark cli' };
    let created: { record: TokenRecord; token: string } | undefined;
    const id = uuidv7();
    await this.recorder.record(
      {
        action: 'auth.token.created',
        actor,
        resource: { id, name },
        details: { name, scopes: unique, created_by: actor.name ?? 'unknown' },
        source: ctx ? { ip: ctx.ip, user_agent: ctx.userAgent } : undefined,
        requestId: ctx?.requestId,
      },
      async (tx) => {
        created = await this.tokens.create(tx, id, name, unique, actor.name, this.clock.now());
      },
    );
    return created!;
  }

  async revoke(id: string, ctx: RequestContext): Promise<void> {
    const token = await this.tokens.byId(id);
    if (!token || token.revoked_at !== null) throw notFound(`Active API token ${id}`);
    const actor = actorOf(ctx.principal);
    await this.recorder.record(
      {
        action: 'auth.token.revoked',
        actor,
        resource: { id, name: token.name },
        details: { name: token.name, revoked_by: actor.name ?? 'unknown' },
        source: { ip: ctx.ip, user_agent: ctx.userAgent },
        requestId: ctx.requestId,
      },
      async (tx) => {
        if (!(await this.tokens.revoke(tx, id, this.clock.now()))) throw notFound(`Active API token ${id}`);
      },
    );
    // A request that authenticated while the revocation was uncommitted may have cached it again.
    this.tokens.forget(id);
  }

  list(): Promise<TokenRecord[]> {
    return this.tokens.list();
  }
}
