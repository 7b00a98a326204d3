import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ALL_ROLES } from '../auth/access.js';
import type { SigningKeys } from '../export/signing-keys.js';
import { errorResponses } from '../http/common.schemas.js';
import type { CheckpointService } from './checkpoint.service.js';

const Statement = Type.Object({
  format: Type.String(), tenant: Type.String(), seq: Type.Integer(), hash: Type.String(), head_ts: Type.String(), issued_at: Type.String(), key_id: Type.String(),
});

/** Published trust material: signing public keys and signed checkpoints of the chain head. */
export function checkpointRoutes(app: FastifyInstance, deps: { checkpoints: CheckpointService; keys: SigningKeys }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/audit/keys', {
    config: { access: 'public' },
    schema: {
      tags: ['audit'],
      summary: 'Public keys that sign export manifests and checkpoints',
      description: 'Current and retired Ed25519 public keys (raw 32 bytes, base64url). Public, so an auditor can verify exports (`trailmark verify FILE --keys-url …`) without an account.',
      response: {
        200: Type.Object({
          keys: Type.Array(Type.Object({ key_id: Type.String(), algorithm: Type.Literal('Ed25519'), public_key: Type.String(), status: Type.Union([Type.Literal('current'), Type.Literal('retired')]), created_at: Type.String(), retired_at: Type.Union([Type.String(), Type.Null()]) })),
        }),
      },
    },
  }, async () => {
    await deps.keys.current(); // a fresh deployment publishes its first key at once
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return { keys: (await deps.keys.list()).map((k) => ({ ...k, created_at: iso(k.created_at)!, retired_at: iso(k.retired_at) })) };
  });

  r.get('/api/audit/checkpoints', {
    config: { access: { roles: ALL_ROLES, scopes: ['audit:read'] } },
    schema: {
      tags: ['audit'],
      summary: 'Signed checkpoints of the chain head, newest first',
      description: 'Each signature is Ed25519 over the canonical JSON of `statement`, by the key `key_id` from /api/audit/keys.',
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ checkpoints: Type.Array(Type.Object({ seq: Type.Integer(), hash: Type.String(), statement: Statement, key_id: Type.String(), signature: Type.String(), created_at: Type.String() })) }),
        ...errorResponses,
      },
    },
  }, async (request) => ({
    checkpoints: (await deps.checkpoints.list(request.query.limit ?? 50)).map((c) => ({ ...c, created_at: new Date(c.created_at).toISOString() })),
  }));
}
