import type { WebhookChannel } from '../alerts/alert-rule.js';
import type { AuditEntryJson } from '../audit/audit-entry.js';
import type { DeliveryTarget, SendResult } from './channel-sender.js';
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
    const e = err as { name?: string; cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.name ?? 'network error');
    return { ok: false, status: null, error: `could not deliver: ${reason}` };
  }
}
