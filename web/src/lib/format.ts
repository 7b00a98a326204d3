/** `2026-01-10 12:00:00.123 UTC` from an ISO time: the audit log's own clock. */
export function utc(iso: string): string {
  return iso.replace('T', ' ').replace('Z', ' UTC');
}

// One formatter for every timestamp: creating one per call costs milliseconds each.
const LOCAL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** The same instant in the browser's time zone, for hover text. */
export function local(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${LOCAL.format(d)} (your time)`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

export function actorLabel(actor: { type: string; id: string | null; name: string | null }): string {
  return actor.name ?? actor.id ?? actor.type;
}

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
