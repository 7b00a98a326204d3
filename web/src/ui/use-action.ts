import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { messageOf } from '../lib/api';
import type { Result } from './notice';

/**
 * Runs page actions one at a time and keeps the last outcome for a ResultNotice: the
 * success text, or the API's error message. Refreshes the given queries afterwards.
 */
export function useAction(invalidate: readonly string[]) {
  const queryClient = useQueryClient();
  const [result, setResult] = useState<Result>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<unknown>, success: string): Promise<boolean> => {
    setBusy(true);
    setResult(null);
    try {
      await work();
      setResult({ kind: 'success', text: success });
      return true;
    } catch (err) {
      setResult({ kind: 'error', text: messageOf(err) });
      return false;
    } finally {
      setBusy(false);
      await Promise.all(invalidate.map((key) => queryClient.invalidateQueries({ queryKey: [key] })));
    }
  };
  return { result, clear: () => setResult(null), busy, run };
}
