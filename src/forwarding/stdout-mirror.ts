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

  /**
   * The recorder's commit listener; never throws. The lines are written on a later turn of the
   * event loop, after the appender has been answered: the mirror follows the commit, it does
   * not delay the acknowledgement. Commits are written in the order they were told.
   */
  readonly onCommit = (entries: readonly StoredEntry[]): void => {
    if (entries.length === 0) return;
    void this.enabled().then(
      (on) => {
        if (!on) return;
        // Commits told in the same turn go out in one write.
        this.pending.push(entries);
        if (this.pending.length === 1) setImmediate(this.flush);
      },
      () => undefined,
    );
  };

  private pending: Array<readonly StoredEntry[]> = [];

  private readonly flush = (): void => {
    const commits = this.pending;
    this.pending = [];
    let text = '';
    for (const entries of commits) for (const entry of entries) text += `${entryJsonText(entry)}\n`;
    this.out.write(text);
  };
}
