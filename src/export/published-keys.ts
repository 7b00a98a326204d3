import { keyIdFor } from './ed25519-keys.js';

/**
 * Fetches `GET /api/audit/keys` (`{ keys: [{ key_id, public_key }] }`) and returns the
 * public key published under `keyId`, or null. A listed key whose id does not derive from
 * its public key is ignored: the id must not be a label the server can attach to any key.
 */
export async function fetchPublishedKey(url: string, keyId: string, fetchImpl: typeof fetch = fetch): Promise<string | null> {
  const res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const body = (await res.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error(`${url} did not return { keys: [...] }`);
  for (const k of body.keys as Array<{ key_id?: unknown; public_key?: unknown }>) {
    if (k.key_id === keyId && typeof k.public_key === 'string' && keyIdFor(k.public_key) === keyId) return k.public_key;
  }
  return null;
}
