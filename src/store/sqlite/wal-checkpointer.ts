import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the checkpointer copies the write-ahead log into the database file (ms). */
const CHECKPOINT_INTERVAL_MS = 100;

/*
 * The checkpointer thread's program (plain JavaScript run with `eval`, like the writer
 * thread's, so it works from the build, under tsx and under the test runner). It owns one
 * connection and runs a PASSIVE checkpoint on a timer: it copies what it can without waiting
 * for readers or the writer, and with synchronous=FULL the database file is fsynced before
 * the log can be reused. A failure is reported and ends the thread.
 */
const CHECKPOINTER_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
let conn;
let timer;
function stop(error) {
  if (timer) clearInterval(timer);
  try { if (conn) conn.close(); } catch {}
  parentPort.postMessage({ stopped: true, error });
  parentPort.close();
}
try {
  const Database = require(workerData.driver);
  conn = new Database(workerData.path);
  conn.pragma('busy_timeout = 0');
  conn.pragma('synchronous = FULL');
  timer = setInterval(() => {
    try { conn.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { stop(String(err && err.message || err)); }
  }, workerData.intervalMs);
} catch (err) {
  stop(String(err && err.message || err));
}
parentPort.on('message', (m) => { if (m === 'close') stop(null); });
`;

/**
 * Checkpoints a SQLite file's write-ahead log on a thread of its own, so that no commit pays
 * for one. By default SQLite checkpoints inside the commit that takes the log past 1,000
 * pages: that commit copies the log into the database and fsyncs it, and every append queued
 * behind it waits (under sustained ingest, one commit in a few dozen). While this thread works,
 * the writer connection checkpoints only past a much larger bound (`WAL_RESTART_PAGES`), which
 * this thread alone cannot replace: see `SqliteDatabase`. If the thread fails or stops,
 * `onStopped` is told (with the error) and the writer goes back to SQLite's 1,000 pages.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(path: string, onStopped: (error: string | null) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(CHECKPOINTER_THREAD, { eval: true, workerData: { path, driver, intervalMs: CHECKPOINT_INTERVAL_MS } });
    this.worker.unref();
    const end = (error: string | null): void => {
      if (this.stopped) return;
      this.stopped = true;
      onStopped(error);
    };
    this.worker.on('message', (m: { stopped?: boolean; error?: string | null }) => {
      if (m.stopped) end(m.error ?? null);
    });
    this.worker.on('error', (err) => end(err.message));
    this.worker.on('exit', (code) => end(code === 0 ? null : `the checkpoint thread stopped (exit code ${code})`));
  }

  /** Stops the thread; the caller's last connection to close checkpoints what is left. */
  async close(): Promise<void> {
    if (this.stopped) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // Referenced while it stops: an unreferenced thread is no reason for Node to wait, and a
    // process with nothing else left would end here, before its own close had finished.
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }
}
