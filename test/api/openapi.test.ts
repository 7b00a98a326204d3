import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openapiDocument } from '../../src/http/openapi-document.js';

interface Operation { description?: string; security?: unknown; 'x-access'?: unknown; responses?: Record<string, unknown> }

describe('OpenAPI document', () => {
  it('matches the committed openapi.json (run `npm run openapi` after changing routes)', async () => {
    const committed = readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8');
    expect(await openapiDocument()).toBe(committed);
  });

  it('documents every /api route with its access rule and error shape', async () => {
    const doc = JSON.parse(await openapiDocument()) as { paths: Record<string, Record<string, Operation>> };
    const ops = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/')).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => [`${m.toUpperCase()} ${p}`, op] as const));
    expect(ops.length).toBeGreaterThanOrEqual(10);
    for (const [name, op] of ops) {
      expect(op.description, name).toMatch(/\*\*Access:\*\* (Public|Requires)/);
      if (!/Public/.test(op.description!)) {
        expect(op['x-access'], name).toBeDefined();
        expect(op.responses?.['401'], name).toBeDefined();
        expect(op.responses?.['403'], name).toBeDefined();
      }
    }
    expect(doc.paths['/api/audit']?.get?.responses?.['200']).toBeDefined();
    expect(JSON.stringify(doc)).toContain('"AuditEntry"');
  });
});
