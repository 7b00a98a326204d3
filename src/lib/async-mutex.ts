/**
 * A FIFO lock for async work. Written here rather than taken from a package: it is the
 * dozen lines below, and the writer's correctness rests on its exact ordering.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  /** Holders and waiters. */
  private users = 0;

  /** Whether work holds the lock or waits for it: new work would wait. */
  get busy(): boolean {
    return this.users > 0;
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    this.users += 1;
    await prev;
    try {
      return await fn();
    } finally {
      this.users -= 1;
      release();
    }
  }
}
