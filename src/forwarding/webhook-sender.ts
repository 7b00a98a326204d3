import type { WebhookChannel } from '../alerts/alert-rule.js';
import type { AuditEntryJson } from '../audit/audit-entry.js';
import type { DeliveryTarget, SendResult } from './channel-sender.js';
import { failureReason } from './channel-sender.js';
import { signatureHeader, webhookBody } from './webhook-payload.js';

export type { SendResult } from './channel-sender.js';

const TIMEOUT_MS = 10_000;

/** One HTTP POST of an entry to a rule's webhook. Redirects are not followed. */
export async function sendWebhook(rule: DeliveryTarget<WebhookChannel>, entry: AuditEntryJson, deliveryId: string, nowMs: number): Promise<SendResult> {
  const body = webhookBody(rule.channel.format, { id: rule.id, name: rule.name }, entry);
  const headers: Record<string, string> = { ...rule.channel.headers, 'content-type': 'application/json', 'user-agent': 'Trailmark-Webhook/1', 'x-trailmark-delivery': deliveryId };
  if (rule.channel.secret) headers['x-trailmark-signature'] = signatureHeader(rule.channel.secret, body, Math.floor(nowMs / 1000));
  try {
    const res = await fetch(rule.channel.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
    return { ok: false, status: res.status, error: `receiver answered HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, status: null, error: `could not deliver: ${redacted(reasonOf(err, rule.channel.url), rule.channel)}`.slice(0, 500) };
  }
}

function reasonOf(err: unknown, url: string): string {
  if ((err as { name?: unknown } | null)?.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const reason = failureReason(err);
  // fetch refuses the ports of the Fetch standard's block list (e.g. 9, 25, 6000) before connecting.
  if (reason === 'bad port') return `port ${URL.canParse(url) ? new URL(url).port : '?'} is blocked by fetch (bad port)`;
  return reason;
}

/** The reason without anything secret of the channel: the URL's path, query and credentials, header values, the signing secret. */
function redacted(text: string, channel: WebhookChannel): string {
  const secrets: string[] = [channel.url, ...Object.values(channel.headers)];
  if (channel.secret) secrets.push(channel.secret);
  if (URL.canParse(channel.url)) {
    const u = new URL(channel.url);
    secrets.push(u.href, u.username, u.password, u.search, u.hash, u.pathname === '/' ? '' : u.pathname);
  }
  let out = text;
  for (const s of secrets.filter((v) => v.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(s).join('[redacted]');
  return out;
}
