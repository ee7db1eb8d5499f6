/**
 * The worker behind {@linkcode startWalCheckpointer}: its own connection to the database,
 * running a PASSIVE WAL checkpoint every `intervalMs`. In WAL mode a PASSIVE checkpoint and the
 * writer do not wait for each other, so the checkpoint's page copies and fsyncs leave the
 * writer's event loop. One message starts it: `{type:"start", path, intervalMs}`; the owner
 * ends it with `Worker.terminate()`.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** How long the checkpointer's connection waits for a lock, ms. */
const CHECKPOINT_BUSY_TIMEOUT_MS = 100;

interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
let db: DatabaseSync | null = null;

function checkpoint(): void {
  try {
    db?.exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or failing: the writer's own auto-checkpoint is the fallback; retried next period.
  }
}

scope.onmessage = (e: MessageEvent) => {
  const m = e.data as { type: string; path: string; intervalMs: number };
  if (m.type !== "start" || db !== null) return;
  db = new DatabaseSync(m.path);
  db.exec(`PRAGMA busy_timeout = ${CHECKPOINT_BUSY_TIMEOUT_MS}`);
  setInterval(checkpoint, m.intervalMs);
};
