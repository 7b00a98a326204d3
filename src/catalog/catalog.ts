import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { CATEGORIES, EVENT_DEFINITIONS, SEVERITIES } from './event-definitions.js';
import type { EventDefinition, Severity } from './event-definitions.js';

/** A problem with one event's details, located by a JSON-pointer-like path. */
export interface DetailsProblem {
  readonly field: string;
  readonly message: string;
}

export interface RenderContext {
  readonly actor: { readonly name: string | null; readonly id: string | null };
  readonly resource: { readonly type: string; readonly id: string; readonly name: string | null };
  readonly details: Record<string, unknown>;
}

/**
 * The event catalog: the single source of truth for which actions exist, their severity,
 * their details schema and how they are described. Ingest validation, the UI's filters,
 * the OpenAPI document and the docs all read it from here.
 */
export class Catalog {
  private readonly byAction = new Map<string, EventDefinition>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly definitions: readonly EventDefinition[] = EVENT_DEFINITIONS) {
    const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false });
    for (const def of definitions) {
      if (this.byAction.has(def.action)) throw new Error(`duplicate catalog action ${def.action}`);
      this.byAction.set(def.action, def);
      this.validators.set(def.action, ajv.compile(def.details));
    }
  }

  get(action: string): EventDefinition | undefined {
    return this.byAction.get(action);
  }

  has(action: string): boolean {
    return this.byAction.has(action);
  }

  severityOf(action: string): Severity {
    const def = this.byAction.get(action);
    if (!def) throw new Error(`unknown action ${action}`);
    return def.severity;
  }

  /** Checks details against the action's schema; returns the first problem or null. */
  checkDetails(action: string, details: unknown): DetailsProblem | null {
    const validate = this.validators.get(action);
    if (!validate) return { field: 'action', message: `unknown action '${action}'` };
    if (validate(details)) return null;
    const err = validate.errors?.[0];
    if (!err) return { field: 'details', message: 'details do not match the schema' };
    const missing = err.keyword === 'required' ? `/${String((err.params as { missingProperty: string }).missingProperty)}` : '';
    const path = `details${(err.instancePath + missing).replaceAll('/', '.')}`;
    const message = err.keyword === 'required' ? 'is required' : (err.message ?? 'is invalid');
    return { field: path, message };
  }

  /** Fills the action's description template from the entry. */
  describe(action: string, ctx: RenderContext): string {
    const def = this.byAction.get(action);
    if (!def) throw new Error(`unknown action ${action}`);
    return def.description.replace(/\{(actor|resource|details)\.([a-z_]+)\}/g, (_m, root: string, key: string) => {
      const source = (root === 'details' ? ctx.details : root === 'actor' ? ctx.actor : ctx.resource) as Record<string, unknown>;
      return formatValue(source[key]);
    });
  }

  /**
   * Turns an action filter (`auth.login.failed`, `rotation.*`, `*`) into the exact catalog
   * actions it covers. Returns null for a pattern that covers no known action.
   */
  expandPattern(pattern: string): string[] | null {
    if (pattern === '*') return this.definitions.map((d) => d.action);
    if (pattern.endsWith('.*')) {
      const prefix = pattern.slice(0, -1);
      const hits = this.definitions.filter((d) => d.action.startsWith(prefix)).map((d) => d.action);
      return hits.length > 0 ? hits : null;
    }
    return this.byAction.has(pattern) ? [pattern] : null;
  }

  /** The catalog as served by `GET /api/audit/catalog`. */
  toJSON(): CatalogDocument {
    return {
      categories: [...CATEGORIES],
      severities: [...SEVERITIES],
      actions: this.definitions.map((d) => ({
        action: d.action,
        category: d.category,
        severity: d.severity,
        severity_reason: d.severityReason,
        resource_type: d.resourceType,
        description: d.description,
        details_schema: d.details,
        source: d.source,
      })),
    };
  }
}

export interface CatalogDocument {
  categories: string[];
  severities: string[];
  actions: Array<{
    action: string;
    category: string;
    severity: Severity;
    severity_reason: string;
    resource_type: string;
    description: string;
    details_schema: Record<string, unknown>;
    source: string;
  }>;
}

function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(formatValue).join(', ');
  return JSON.stringify(value);
}
