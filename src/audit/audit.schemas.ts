import { Type } from 'typebox';
import type { Static } from 'typebox';
import { SEVERITIES } from '../catalog/event-definitions.js';
import { ACTOR_TYPES } from './audit-entry.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Severity = Type.Enum(SEVERITIES);

export const AuditEntrySchema = Type.Object(
  {
    id: Type.String({ description: 'UUIDv7' }),
    seq: Type.Integer({ minimum: 1, description: 'Position in the chain: gap-free, increasing' }),
    ts: Type.String({ description: 'When Trailmark recorded the entry: UTC ISO 8601 with milliseconds and Z' }),
    occurred_at: Nullable(Type.String({ description: "The producer's own time for the event, when it sent one" })),
    action: Type.String({ description: 'Dotted action from the catalog, e.g. rotation.completed' }),
    category: Type.String(),
    severity: Severity,
    actor: Type.Object({
      type: Type.Enum(ACTOR_TYPES),
      id: Nullable(Type.String()),
      name: Nullable(Type.String()),
    }),
    resource: Type.Object({ type: Type.String(), id: Type.String(), name: Nullable(Type.String()) }),
    description: Type.String(),
    details: Type.Unknown({ description: "Action-specific details; see the action's details_schema in /api/audit/catalog" }),
    source: Type.Object({
      ip: Nullable(Type.String()),
      user_agent: Nullable(Type.String()),
      token_id: Nullable(Type.String({ description: 'API token that submitted the event, if any' })),
    }),
    request_id: Nullable(Type.String()),
    prev_hash: Type.String({ description: 'hash of the previous entry (or the genesis constant)' }),
    hash: Type.String({ description: 'SHA-256(prev_hash bytes ‖ canonical JSON of the entry), hex' }),
  },
  { $id: 'AuditEntry', description: 'One audit entry.' },
);

export const IngestEvent = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: 128, description: 'A catalog action' }),
    resource: Type.Object(
      {
        type: Type.String({ minLength: 1, maxLength: 64 }),
        id: Type.String({ minLength: 1, maxLength: 256 }),
        name: Type.Optional(Nullable(Type.String({ maxLength: 512 }))),
      },
      { additionalProperties: false },
    ),
    details: Type.Record(Type.String(), Type.Unknown(), { description: "Must fit the action's details_schema" }),
    ts: Type.Optional(Type.String({ format: 'date-time', description: 'When the event happened, per the producer (kept as occurred_at)' })),
    actor: Type.Optional(
      Type.Object(
        {
          type: Type.Union([Type.Literal('worker'), Type.Literal('system')]),
          id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        },
        { additionalProperties: false, description: "Defaults to the worker named by the API token; the token is always kept in source.token_id" },
      ),
    ),
  },
  { additionalProperties: false },
);

export const IngestBody = Type.Object({ events: Type.Array(IngestEvent, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });
export type IngestBody = Static<typeof IngestBody>;

export const IngestResponse = Type.Object({
  entries: Type.Array(Type.Object({ id: Type.String(), seq: Type.Integer(), hash: Type.String() })),
});

const StringList = (description: string) => Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 50, description });

export const AuditQuery = Type.Object(
  {
    start: Type.Optional(Type.String({ format: 'date-time', description: 'Recorded at or after (ISO 8601)' })),
    end: Type.Optional(Type.String({ format: 'date-time', description: 'Recorded at or before (ISO 8601)' })),
    action: Type.Optional(StringList('Exact action, or a prefix ending in .* (rotation.*); repeatable, any may match')),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Actor name or id, exactly (system for system events)' })),
    actor_type: Type.Optional(Type.Enum(ACTOR_TYPES)),
    severity: Type.Optional(Type.Array(Severity, { maxItems: 4, description: 'Repeatable, any may match' })),
    resource: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Resource type, id or name, exactly' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Search words over action, actor name, description and resource name/id; each word matches as a prefix, all must match' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'next_cursor of a newest-first page' })),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'Oldest-first forward paging from this seq (exclusive), for SIEM polling' })),
    include_total: Type.Optional(Type.Boolean({ description: 'Also count the matching entries: exactly with no filter or only start/end, otherwise up to 10,000 (total.capped is true when there are more)' })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPageResponse = Type.Object({
  items: Type.Array(Type.Ref('AuditEntry')),
  next_cursor: Nullable(Type.String({ description: 'Newest-first: pass as cursor for the next page (null at the end). With after: the seq to poll from next.' })),
  total: Type.Optional(Type.Object({ count: Type.Integer(), capped: Type.Boolean({ description: 'true when there are more than count' }) })),
});

export const VerifyResponse = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ description: 'Entries re-hashed' }),
  from_seq: Nullable(Type.Integer()),
  to_seq: Nullable(Type.Integer()),
  head_hash: Type.String(),
  anchor: Type.Object({ seq: Type.Integer(), hash: Type.String() }, { description: 'Where the walk started: genesis (seq 0) or the checkpoint of the last retention purge' }),
  first_bad_seq: Nullable(Type.Integer()),
  reason: Nullable(Type.String()),
});

export const CatalogResponse = Type.Object({
  categories: Type.Array(Type.String()),
  severities: Type.Array(Type.String()),
  actions: Type.Array(
    Type.Object({
      action: Type.String(),
      category: Type.String(),
      severity: Severity,
      severity_reason: Type.String(),
      resource_type: Type.String(),
      description: Type.String({ description: 'Template; {details.x}, {actor.name}, {resource.id} are filled in' }),
      details_schema: Type.Unknown({ description: 'JSON Schema of the details' }),
      source: Type.String({ description: 'reference: an event of the product reference; trailmark: Trailmark’s own' }),
    }),
  ),
});
