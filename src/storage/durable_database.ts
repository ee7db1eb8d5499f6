/**
 * The gateway's durable SQLite database (`node:sqlite`, WAL): one file shared by the components
 * whose writes must commit together.
 *
 * Why one file: the intent journal's state change and the execution report it produces must be
 * on disk together or not at all, or a crash between the two commits loses a report (the
 * journal already says "filled", so reconciliation finds nothing missing). SQLite makes a
 * transaction atomic within one database file; across attached files in WAL mode it is not.
 * So the {@linkcode IntentJournal} and the {@linkcode ExecReportLog} can share one connection,
 * and {@linkcode inTransaction} lets an outer transaction enclose both.
 *
 * Each component versions its own tables in `schema_component`, so neither owns
 * `PRAGMA user_version`.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** The path of an in-memory database. */
export const MEMORY_DATABASE_PATH = ":memory:";

/** How long a writer waits for a lock held by another connection, in ms. */
export const BUSY_TIMEOUT_MS = 1000;

/**
 * WAL pages after which a commit checkpoints (SQLite's default is 1000 pages). A checkpoint
 * runs inside the committing call and syncs the WAL and the database file (ms each on a
 * shared disk) while the event loop waits; the order path commits several times per order, so
 * with the default the fsyncs came every few dozen orders. Ten times as many pages means a
 * tenth of the checkpoints, each copying the hot pages (the same few B-tree leaves, rewritten
 * by every order) once, for a WAL of up to ~40 MiB with 4 KiB pages. What a commit guarantees
 * does not change: in WAL mode it is durable once in the WAL, checkpointed or not.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** Options of {@linkcode openDurableDatabase}. */
export interface DurableDatabaseOptions {
  /**
   * `normal` (default): in WAL mode a commit survives a crash of the process, and the last
   * commits may be lost on power loss. `full`: every commit is synced.
   */
  synchronous?: "normal" | "full";
}

/** Opens (creating if needed) a database in WAL mode. */
export function openDurableDatabase(path: string, opts?: DurableDatabaseOptions): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${opts?.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Records that `component`'s tables have schema `version`, or throws when the database holds
 * another version of them (`what` names the database in the message).
 */
export function claimSchemaVersion(
  db: DatabaseSync,
  component: { name: string; version: number },
  what: string,
): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_component (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL
  ) WITHOUT ROWID`);
  const row = db.prepare("SELECT version FROM schema_component WHERE name = ?").get(
    component.name,
  ) as { version: number } | undefined;
  if (row === undefined) {
    db.prepare("INSERT INTO schema_component (name, version) VALUES (?, ?)").run(
      component.name,
      component.version,
    );
    return;
  }
  if (row.version !== component.version) {
    throw new Error(
      `${what}: expected schema version ${component.version} of ${component.name}, found ${row.version}`,
    );
  }
}

/**
 * Rollback callbacks of the transaction each database has open through
 * {@linkcode inTransaction}: components that mirror rows in memory register one to drop what the
 * rollback undid (a cache must never hold a row the database does not).
 */
const rollbackHooks = new WeakMap<DatabaseSync, (() => void)[]>();

/**
 * Calls `hook` if the transaction open on `db` rolls back (forgotten when it commits). Outside a
 * transaction started by {@linkcode inTransaction} nothing can roll back later: returns false
 * and registers nothing (the statement already committed, or failed and wrote nothing).
 */
export function onRollback(db: DatabaseSync, hook: () => void): boolean {
  const hooks = rollbackHooks.get(db);
  if (hooks === undefined) return false;
  hooks.push(hook);
  return true;
}

/**
 * True when `db` has a transaction open that {@linkcode inTransaction} did not start (a caller's
 * own `BEGIN`): a write in it may be rolled back without any {@linkcode onRollback} hook
 * running, so memory mirrors must not trust it.
 */
export function inForeignTransaction(db: DatabaseSync): boolean {
  return db.isTransaction && !rollbackHooks.has(db);
}

/**
 * Runs `body` in one transaction: committed when it returns, rolled back when it throws. Inside
 * an open transaction (an outer caller's) it joins that one instead. On a rollback the hooks
 * registered with {@linkcode onRollback} run (after the rollback, in registration order).
 */
export function inTransaction<T>(db: DatabaseSync, body: () => T): T {
  if (db.isTransaction) return body();
  db.exec("BEGIN IMMEDIATE");
  const hooks: (() => void)[] = [];
  rollbackHooks.set(db, hooks);
  try {
    const result = body();
    db.exec("COMMIT");
    rollbackHooks.delete(db);
    return result;
  } catch (err) {
    rollbackHooks.delete(db);
    if (db.isTransaction) db.exec("ROLLBACK");
    for (const hook of hooks) hook();
    throw err;
  }
}
