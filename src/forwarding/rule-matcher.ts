import type { StoredEntry } from '../audit/audit-entry.js';
import type { Catalog } from '../catalog/catalog.js';
import { SEVERITIES } from '../catalog/event-definitions.js';
import type { Severity } from '../catalog/event-definitions.js';

export interface MatchableRule {
  readonly id: string;
  readonly enabled: boolean;
  readonly event_types: readonly string[];
  readonly min_severity: Severity;
}

const rank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Which enabled rules an entry matches: by action pattern and minimum severity. */
export class RuleMatcher {
  private readonly compiled: Array<{ id: string; actions: Set<string>; minRank: number }>;

  constructor(rules: readonly MatchableRule[], catalog: Catalog) {
    this.compiled = rules
      .filter((r) => r.enabled)
      .map((r) => ({ id: r.id, actions: new Set(r.event_types.flatMap((p) => catalog.expandPattern(p) ?? [])), minRank: rank(r.min_severity) }));
  }

  match(entry: Pick<StoredEntry, 'action' | 'severity'>): string[] {
    const r = rank(entry.severity);
    return this.compiled.filter((c) => r >= c.minRank && c.actions.has(entry.action)).map((c) => c.id);
  }

  get size(): number {
    return this.compiled.length;
  }
}
