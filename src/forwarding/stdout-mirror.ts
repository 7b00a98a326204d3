import type { StoredEntry } from '../audit/audit-entry.js';
import { entryJsonText } from '../audit/audit-entry.js';

/**
 * Writes every committed entry as one JSON line (the API's entry shape) to stdout, so
 * container log collectors receive the trail. Service logs go to stderr, never here.
 * Best effort by nature: the database stays the source of truth.
 */
export class StdoutMirror {
  constructor(
    private readonly enabled: () => Promise<boolean>,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  /** The recorder's commit listener; never throws. */
  readonly onCommit = (entries: readonly StoredEntry[]): void => {
    void this.enabled().then(
      (on) => {
        if (!on || entries.length === 0) return;
        this.out.write(entries.map(entryJsonText).join('\n') + '\n');
      },
      () => undefined,
    );
  };
}
