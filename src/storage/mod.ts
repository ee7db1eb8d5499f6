/**
 * Durable storage shared by the order journal and the execution-report log.
 *
 * @module
 */

export {
  BUSY_TIMEOUT_MS,
  claimSchemaVersion,
  type DurableDatabaseOptions,
  inForeignTransaction,
  inTransaction,
  MEMORY_DATABASE_PATH,
  onRollback,
  openDurableDatabase,
  WAL_AUTOCHECKPOINT_PAGES,
} from "./durable_database.ts";
export {
  startWalCheckpointer,
  WAL_CHECKPOINT_INTERVAL_MS,
  type WalCheckpointer,
  type WalCheckpointerOptions,
} from "./wal_checkpointer.ts";
