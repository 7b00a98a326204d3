import { createHmac } from 'node:crypto';
import type { AuditEntryJson } from '../audit/audit-entry.js';
import type { WebhookFormat } from '../alerts/alert-rule.js';

/** The body of one delivery, shaped for the rule's receiver. */
export function webhookBody(format: WebhookFormat, rule: { id: string; name: string }, entry: AuditEntryJson): string {
  switch (format) {
    case 'generic':
      return JSON.stringify({ rule, entry });
    case 'splunk_hec':
      // Splunk HTTP Event Collector envelope; `time` in epoch seconds.
      return JSON.stringify({ time: Date.parse(entry.ts) / 1000, host: 'trailmark', source: 'trailmark', sourcetype: 'trailmark:audit', event: { rule, entry } });
    case 'datadog':
      // Datadog log intake takes an array of log objects.
      return JSON.stringify([
        {
          ddsource: 'trailmark',
          service: 'trailmark',
          hostname: 'trailmark',
          ddtags: `action:${entry.action},severity:${entry.severity},category:${entry.category}`,
          status: entry.severity,
          message: entry.description,
          trailmark: { rule, entry },
        },
      ]);
  }
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>` (API.md). */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Exponential backoff with full jitter: 2 s, 4 s, 8 s… capped at one hour. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(3_600_000, 2_000 * 2 ** Math.min(attempt, 20));
  return Math.max(1_000, Math.floor(random() * ceiling));
}
