/**
 * Background WAL checkpoints for a database file: a worker with its own connection runs a
 * PASSIVE checkpoint every `intervalMs`, so that the writer's commits never have to: with
 * node:sqlite (synchronous) a checkpoint that a commit triggers holds the committing event
 * loop for its page copies and its two fsyncs (tens of ms on a shared disk: the p99 of every
 * order in flight then).
 *
 * Durability is unchanged: in WAL mode a commit is durable once in the WAL (`synchronous`
 * decides how), whoever checkpoints it later. The writer's own auto-checkpoint
 * (`WAL_AUTOCHECKPOINT_PAGES`) stays as the fallback if the worker falls behind or is gone.
 *
 * @module
 */

/** Default period of the background checkpoint, ms. */
export const WAL_CHECKPOINT_INTERVAL_MS = 100;

/** Options of {@linkcode startWalCheckpointer}. */
export interface WalCheckpointerOptions {
  /** Period of the checkpoint, ms (> 0). Default {@linkcode WAL_CHECKPOINT_INTERVAL_MS}. */
  intervalMs?: number;
}

/** A running background checkpointer. */
export interface WalCheckpointer {
  /**
   * Stops it at once (idempotent). A checkpoint in progress ends with its SQLite call; stopping
   * then is safe (checkpoints are crash-safe), and the writer's auto-checkpoint takes over.
   */
  close(): void;
}

/**
 * Starts checkpointing the WAL of the database file at `path` in a worker (the file must be in
 * WAL mode, e.g. opened with `openDurableDatabase`).
 */
export function startWalCheckpointer(
  path: string,
  opts?: WalCheckpointerOptions,
): WalCheckpointer {
  const intervalMs = opts?.intervalMs ?? WAL_CHECKPOINT_INTERVAL_MS;
  if (!(intervalMs > 0)) {
    throw new RangeError(`expected a checkpoint interval > 0 ms, found ${intervalMs}`);
  }
  const worker = new Worker(new URL("./wal_checkpoint_worker.ts", import.meta.url).href, {
    type: "module",
  });
  worker.postMessage({ type: "start", path, intervalMs });
  let closed = false;
  return {
    close(): void {
      if (closed) return;
      closed = true;
      worker.terminate();
    },
  };
}
