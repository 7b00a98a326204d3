import { errorFrom } from '../lib/api';

export interface DownloadProgress {
  readonly received: number;
  /** From Content-Length; null when the server streams without one. */
  readonly total: number | null;
}

/** The file name from a Content-Disposition header (RFC 6266, `filename*` preferred). */
export function fileNameFrom(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain?.[1]?.trim() || fallback;
}

/**
 * Fetches a file with progress (bytes received, of Content-Length when known) and hands
 * it to the browser as a download. Errors carry the API's message.
 */
export async function download(url: string, fallbackName: string, onProgress: (p: DownloadProgress) => void, signal: AbortSignal): Promise<{ name: string; size: number }> {
  const res = await fetch(url, { credentials: 'same-origin', signal });
  if (!res.ok) throw await errorFrom(res);
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  onProgress({ received, total });
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      onProgress({ received, total });
    }
  }
  const blob = new Blob(chunks, { type: res.headers.get('content-type') ?? 'application/octet-stream' });
  const name = fileNameFrom(res.headers.get('content-disposition'), fallbackName);
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return { name, size: blob.size };
}
