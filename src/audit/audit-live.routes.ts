import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ALL_ROLES } from '../auth/access.js';
import { errorResponses } from '../http/common.schemas.js';
import { presentEntry } from './audit-entry.js';
import { CommitFeed, DEFAULT_FEED_POLL_MS } from './audit-live-feed.js';
import { entryMatches } from './audit-live-filter.js';
import type { LiveStreamOptions } from './audit-live-stream.js';
import { DEFAULT_LIVE_STREAM_OPTIONS, LiveStream } from './audit-live-stream.js';
import type { AuditRecorder } from './audit-recorder.js';
import { AuditQuery } from './audit.schemas.js';
import type { AuditService } from './audit.service.js';
import type { AuditFilter, AuditStore } from './audit.store.js';

const READERS = { roles: ALL_ROLES, scopes: ['audit:read'] } as const;
const REPLAY_BATCH = 500;
/** A client further behind than this reloads its first page instead of replaying. */
const MAX_REPLAY = 2_000;
const q = AuditQuery.properties;

const LiveQuery = Type.Object(
  {
    start: q.start,
    end: q.end,
    action: q.action,
    actor: q.actor,
    actor_type: q.actor_type,
    severity: q.severity,
    resource: q.resource,
    q: q.q,
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'First replay the matching entries after this seq (the newest the client shows); a Last-Event-ID header takes precedence' })),
    lifetime: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, default: 300, description: 'Seconds before the server ends the stream; EventSource reconnects with Last-Event-ID, so nothing is missed, and the session is checked again' })),
  },
  { additionalProperties: false },
);

export interface AuditLiveDeps {
  readonly service: AuditService;
  readonly store: AuditStore;
  readonly recorder: AuditRecorder;
  readonly options?: Partial<LiveStreamOptions>;
  /** How often entries committed by other processes are looked for while anyone listens (ms). */
  readonly pollMs?: number;
}

/** `GET /api/audit/stream`: the live tail of the audit log as server-sent events. */
export function auditLiveRoutes(app: FastifyInstance, deps: AuditLiveDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const options = { ...DEFAULT_LIVE_STREAM_OPTIONS, ...deps.options };
  const open = new Set<LiveStream>();
  const feed = new CommitFeed(deps.store, deps.recorder, deps.pollMs ?? DEFAULT_FEED_POLL_MS, (err) => app.log.error({ err }, 'live tail could not read new entries'));
  app.addHook('preClose', async () => {
    for (const stream of [...open]) stream.reset('shutting_down');
    feed.close();
  });

  r.get('/api/audit/stream', {
    config: { access: READERS },
    schema: {
      tags: ['audit'],
      summary: 'Live tail: new entries as server-sent events',
      description: [
        'Same filters as GET /api/audit. Events: `entry` (data: an AuditEntry, id: its seq) for each matching entry as it is committed; `ready` (id: the seq the stream is caught up to) once the replay after `after` / Last-Event-ID is sent; `reset` (data: { reason }) when the client fell too far behind or the server is stopping — reload the first page and reconnect.',
        'A comment line every 15 s keeps the connection open. Each connection holds at most 1 MiB unsent. Entries committed by other Trailmark nodes (PostgreSQL) or by CLI commands arrive within about a second, in seq order with this node\'s own.',
      ].join('\n\n'),
      querystring: LiveQuery,
      response: {
        200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: Type.Unknown({ description: 'event: entry / ready / reset lines, see above' }) } } },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const { after, lifetime, ...query } = request.query;
    const filter = deps.service.parseFilter(query);
    const resumeFrom = lastEventId(request.headers['last-event-id']) ?? after;

    const stream = new LiveStream(options);
    open.add(stream);
    const unsubscribe = feed.subscribe((entries) => {
      const matching = entries.filter((e) => entryMatches(filter, e));
      if (matching.length > 0) stream.offer(matching.map(presentEntry));
    });
    stream.onClose(() => {
      unsubscribe();
      open.delete(stream);
    });
    request.raw.once('close', () => stream.close());
    stream.endAfter((lifetime ?? 300) * 1000);

    void catchUp(stream, deps.store, filter, resumeFrom).catch((err: unknown) => {
      request.log.error({ err }, 'live stream catch-up failed');
      stream.close();
    });
    return reply
      .header('Content-Type', 'text/event-stream; charset=utf-8')
      .header('Cache-Control', 'no-cache, no-transform')
      .header('X-Accel-Buffering', 'no')
      .send(stream.body);
  });
}

/** Replays what the client missed (bounded), then switches the stream to live entries. */
async function catchUp(stream: LiveStream, store: AuditStore, filter: AuditFilter, after: number | undefined): Promise<void> {
  const head = await store.head();
  if (after === undefined) return stream.ready(head.seq, false);
  // A seq beyond the head (a stale id from before a restore) must not hide new entries.
  let upTo = Math.min(after, head.seq);
  let replayed = 0;
  for (;;) {
    const page = await store.page(filter, { order: 'oldest', limit: REPLAY_BATCH, afterSeq: upTo });
    if (stream.isClosed) return;
    if (replayed + page.items.length > MAX_REPLAY) return stream.reset('too_far_behind');
    for (const entry of page.items) await stream.replay(presentEntry(entry));
    replayed += page.items.length;
    upTo = page.nextSeq ?? upTo;
    if (page.items.length < REPLAY_BATCH) break;
  }
  stream.ready(upTo, true);
}

function lastEventId(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}
