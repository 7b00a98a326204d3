import type { Principal } from '../auth/access.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ChainVerification } from '../chain/chain-verifier.js';
import { verifyStoredChain } from '../chain/verify-stored-chain.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CheckpointService } from '../checkpoints/checkpoint.service.js';
import { verifyChainWithCheckpoints } from '../checkpoints/verify-chain.js';
import { invalid, notFound } from '../lib/errors.js';
import type { AuditEntryJson } from './audit-entry.js';
import { presentEntry } from './audit-entry.js';
import type { AuditRecorder, RecordInput } from './audit-recorder.js';
import type { AuditQuery, IngestBody } from './audit.schemas.js';
import type { AuditFilter, AuditStore } from './audit.store.js';
import { searchTerms } from './search-terms.js';

/** How far ahead of Trailmark's clock a producer's event time may be. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/**
 * How far `include_total` counts when the filter needs entries walked (anything beyond a time
 * window): each branch of the count reads at most this many index entries, which keeps a page
 * view within its latency target at any log size. Unfiltered and time-only totals are exact.
 */
export const TOTAL_CAP = 10_000;

export interface RequestContext {
  readonly principal: Principal;
  readonly ip: string;
  readonly userAgent: string | null;
  readonly requestId: string;
}

/** Reading, ingesting and verifying the audit log: the rules behind the audit routes. */
export class AuditService {
  constructor(
    private readonly catalog: Catalog,
    private readonly store: AuditStore,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
    private readonly metrics?: Metrics,
    private readonly checkpoints?: CheckpointService,
  ) {}

  /** Query parameters → a store filter; a 400 naming the parameter for anything off. */
  parseFilter(q: Omit<AuditQuery, 'limit' | 'cursor' | 'after' | 'include_total'>): AuditFilter {
    for (const [name, value] of Object.entries(q)) {
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => typeof v === 'string' && v.includes('\u0000'))) throw invalid(`${name} must not contain NUL characters`, { field: `querystring.${name}` });
    }
    const start = q.start === undefined ? undefined : Date.parse(q.start);
    const end = q.end === undefined ? undefined : Date.parse(q.end);
    if (start !== undefined && end !== undefined && start > end) throw invalid('start must not be after end', { field: 'querystring.start' });
    let actions: string[] | undefined;
    if (q.action) {
      const expanded = new Set<string>();
      for (const pattern of q.action) {
        const hits = this.catalog.expandPattern(pattern);
        if (!hits) throw invalid(`action '${pattern}' matches no catalog action (use an exact action or a prefix like rotation.*)`, { field: 'querystring.action' });
        hits.forEach((a) => expanded.add(a));
      }
      actions = [...expanded];
    }
    return {
      start,
      end,
      actions,
      actor: q.actor,
      actorType: q.actor_type,
      severities: q.severity ? [...new Set(q.severity)] : undefined,
      resource: q.resource,
      searchTokens: q.q === undefined ? undefined : searchTerms(q.q),
    };
  }

  async page(q: AuditQuery): Promise<{ items: AuditEntryJson[]; next_cursor: string | null; total?: { count: number; capped: boolean } }> {
    if (q.cursor !== undefined && q.after !== undefined) throw invalid('use either cursor (newest first) or after (oldest first), not both', { field: 'querystring.after' });
    const filter = this.parseFilter(q);
    const limit = q.limit ?? 50;
    const result =
      q.after !== undefined
        ? await this.store.page(filter, { order: 'oldest', limit, afterSeq: q.after })
        : await this.store.page(filter, { order: 'newest', limit, beforeSeq: q.cursor === undefined ? undefined : Number(q.cursor) });
    const page = { items: result.items.map(presentEntry), next_cursor: result.nextSeq === null ? null : String(result.nextSeq) };
    return q.include_total ? { ...page, total: await this.store.count(filter, TOTAL_CAP) } : page;
  }

  async get(id: string): Promise<AuditEntryJson> {
    const entry = await this.store.getById(id);
    if (!entry) throw notFound(`Audit entry ${id}`);
    return presentEntry(entry);
  }

  /** Workers' events: the token is the actor unless the event names a worker or system actor. */
  async ingest(body: IngestBody, ctx: RequestContext): Promise<Array<{ id: string; seq: number; hash: string }>> {
    const p = ctx.principal;
    if (p.kind !== 'token') throw invalid('events are sent with an API token');
    const now = this.clock.now();
    const inputs: RecordInput[] = body.events.map((e, i) => {
      let occurredAt: number | null = null;
      if (e.ts !== undefined) {
        occurredAt = Date.parse(e.ts);
        if (occurredAt > now + MAX_FUTURE_SKEW_MS) throw invalid(`events[${i}].ts is in the future`, { field: `events[${i}].ts` });
      }
      return {
        action: e.action,
        actor: e.actor
          ? { type: e.actor.type, id: e.actor.id ?? (e.actor.type === 'worker' ? p.tokenId : 'system'), name: e.actor.name ?? (e.actor.type === 'worker' ? p.name : 'system') }
          : { type: 'worker', id: p.tokenId, name: p.name },
        resource: { type: e.resource.type, id: e.resource.id, name: e.resource.name ?? null },
        details: e.details,
        occurredAt,
        source: { ip: ctx.ip, user_agent: ctx.userAgent, token_id: p.tokenId },
        requestId: ctx.requestId,
      };
    });
    const started = process.hrtime.bigint();
    const stored = await this.recorder.recordBatch(inputs);
    this.metrics?.ingestBatchSize.observe(inputs.length);
    this.metrics?.ingestDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return stored.map((e) => ({ id: e.id, seq: e.seq, hash: e.hash }));
  }

  /** Re-walks the stored chain and records the outcome (a break is critical and forwarded). */
  async verify(ctx: RequestContext): Promise<ChainVerification & { anchor: { seq: number; hash: string } }> {
    const { anchor } = await this.store.chainState();
    const result = this.checkpoints ? await verifyChainWithCheckpoints(this.store, this.checkpoints) : await verifyStoredChain(this.store);
    this.metrics?.chainVerifications.inc({ result: result.ok ? 'ok' : 'broken' });
    const actor = actorOf(ctx.principal);
    const base = { actor, resource: { id: 'audit_log', name: 'audit log' }, source: { ip: ctx.ip, user_agent: ctx.userAgent }, requestId: ctx.requestId };
    // The report matters more than its record: a store that refuses writes (e.g. a forged row
    // squatting on the next seq) must not hide what verification found.
    try {
      await this.recorder.record(
        result.ok
          ? { ...base, action: 'audit.chain.verified', details: { entry_count: result.checked, from_seq: result.from_seq ?? anchor.seq, to_seq: result.to_seq ?? anchor.seq, head_hash: result.head_hash } }
          : { ...base, action: 'audit.chain.broken', details: { first_bad_seq: result.first_bad_seq ?? 0, reason: result.reason ?? 'unknown' } },
      );
    } catch {
      // nothing more to do: the result below still tells the caller
    }
    return { ...result, anchor };
  }
}

/** The audit actor for whoever made a request. */
export function actorOf(p: Principal): RecordInput['actor'] {
  return p.kind === 'user' ? { type: 'user', id: p.userId, name: p.username } : { type: 'worker', id: p.tokenId, name: p.name };
}
