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
 * Runs `body` in one transaction: committed when it returns, rolled back when it throws. Inside
 * an open transaction (an outer caller's) it joins that one instead.
 */
export function inTransaction<T>(db: DatabaseSync, body: () => T): T {
  if (db.isTransaction) return body();
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = body();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
