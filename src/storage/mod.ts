/**
 * Durable storage shared by the order journal and the execution-report log.
 *
 * @module
 */

export {
  BUSY_TIMEOUT_MS,
  claimSchemaVersion,
  type DurableDatabaseOptions,
  inTransaction,
  MEMORY_DATABASE_PATH,
  openDurableDatabase,
} from "./durable_database.ts";
