/**
 * IntentJournal: the durable record of every order the gateway was asked to send, written
 * synchronously BEFORE the order leaves the process.
 *
 * Why before: if the process dies (kill -9) after writing to the exchange's socket, the restart
 * finds the intent and asks the exchange about it instead of forgetting it; if it dies before,
 * the restart finds an intent the exchange does not know and closes it as never sent. In no case
 * is an order sent twice: a consumer's retry with the same `clientOrderId` is answered from here.
 *
 * Stored with `node:sqlite` (WAL journal). `synchronous = NORMAL` (default) survives a crash of
 * the process, the case this journal exists for; `full` also survives power loss at the cost of
 * a sync per commit. Tables:
 *
 * - `intents`: one row per order. The row id is an AUTOINCREMENT key, so SQLite never reuses it
 *   (not even after deletes); the venue client id is derived from it (`venue_client_id.ts`).
 *   `(consumer_id, client_order_id)` is unique: the consumer's idempotency key.
 * - `fills`: every fill applied, keyed by (provider, venue client id, exchange trade id), so a
 *   replayed fill is recognised also after a restart. The venue client id is part of the key
 *   because Binance numbers trades per symbol, and a self-trade gives one trade id to two orders.
 * - `trading`: the per-consumer trading switch, so it survives restarts.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  claimSchemaVersion,
  inForeignTransaction,
  inTransaction,
  onRollback,
  openDurableDatabase,
} from "../storage/mod.ts";
import type { ExecState } from "../schema/exec_report.ts";
import type { OrderType, TimeInForce } from "../schema/order_request.ts";
import type { Side } from "../schema/event_kind.ts";
import { venueClientIdOf } from "./venue_client_id.ts";
import { rowIdOfVenueClientId } from "./venue_client_id.ts";

/** The database path of a journal that lives in memory (tests). */
export const JOURNAL_MEMORY_PATH = ":memory:";
/** Most rows one {@linkcode IntentJournal.list} returns. */
export const JOURNAL_LIST_ROWS_MAX = 1000;

/** This component's tables and their schema version (see `src/storage`). */
const SCHEMA = { name: "intent_journal", version: 1 };

/**
 * State of an intent. `PENDING`: journaled, the exchange has not answered (yet). `SENT`: the
 * send timed out or its connection dropped, so the outcome is unknown until a query settles it.
 * The others are the canonical states last reported to the consumer.
 */
export type IntentState = "PENDING" | "SENT" | Exclude<ExecState, "">;

/** States an intent can still leave. */
export const OPEN_INTENT_STATES: readonly IntentState[] = ["PENDING", "SENT", "ACK", "PARTIAL"];

/** True for the states after which an intent changes no more. */
export function isTerminalIntentState(state: IntentState): boolean {
  return state === "FILLED" || state === "CANCELLED" || state === "REJECTED" ||
    state === "EXPIRED";
}

/**
 * Order of states: a transition to a lower rank is a bug (states never go backwards). PENDING
 * and SENT share a rank (SENT only records that the answer was lost).
 */
export function intentStateRank(state: IntentState): number {
  switch (state) {
    case "PENDING":
    case "SENT":
      return 0;
    case "ACK":
      return 1;
    case "PARTIAL":
      return 2;
    default:
      return 3;
  }
}

/** What the gateway journals before sending a new order. */
export interface IntentInput {
  consumerId: string;
  clientOrderId: string;
  provider: string;
  symbol: string;
  side: Side;
  orderType: OrderType;
  timeInForce: TimeInForce;
  /** Limit price; "" for market orders. */
  price: string;
  qty: string;
  /** When the intent was journaled, ms since epoch. */
  createdMs: number;
  /** Ops-only trace id. */
  traceId: string;
}

/** One journaled intent. */
export interface IntentRow extends IntentInput {
  /** Journal row id (never reused). */
  id: number;
  /** The client id sent to the exchange, derived from `id`. */
  venueClientId: string;
  /** The exchange's order id; "" until known. */
  exchangeOrderId: string;
  state: IntentState;
  /** Cumulative filled quantity reported so far ("0" before any fill). */
  cumQty: string;
  /** Cumulative quote quantity reported so far ("0" before any fill). */
  cumQuote: string;
  /** The exchange's (or the gateway's) reason for a reject, cancel or expiry. */
  reasonCode: string;
  reasonText: string;
  /** Last change, ms since epoch. */
  updatedMs: number;
}

/** A change to an intent; absent fields stay as they are. */
export interface IntentChange {
  state?: IntentState;
  exchangeOrderId?: string;
  cumQty?: string;
  cumQuote?: string;
  reasonCode?: string;
  reasonText?: string;
  /** When the change happened, ms since epoch. */
  updatedMs: number;
}

/** A fill as recorded for de-duplication. */
export interface FillRecord {
  venueClientId: string;
  qty: string;
  price: string;
  /** Exchange time of the fill, ms since epoch. */
  tsMs: number;
}

/** Options of {@linkcode IntentJournal}. */
export interface IntentJournalOptions {
  /** Database file, or `:memory:` (default). */
  path?: string;
  /** `normal` (default) or `full` (sync on every commit). */
  synchronous?: "normal" | "full";
  /**
   * An open database to share (with the execution-report log, so that an intent's change and
   * the report it produces commit in one transaction). The journal neither configures nor
   * closes it; `path` and `synchronous` are then ignored.
   */
  database?: DatabaseSync;
}

interface Statements {
  insert: StatementSync;
  setVenueId: StatementSync;
  byId: StatementSync;
  byClientId: StatementSync;
  open: StatementSync;
  openOfProvider: StatementSync;
  update: StatementSync;
  insertFill: StatementSync;
  fillSeen: StatementSync;
  setTrading: StatementSync;
  trading: StatementSync;
  list: StatementSync;
}

const ROW_COLUMNS = `id, consumer_id AS consumerId, client_order_id AS clientOrderId, provider,
  symbol, side, order_type AS orderType, time_in_force AS timeInForce, price, qty,
  venue_client_id AS venueClientId, exchange_order_id AS exchangeOrderId, state,
  cum_qty AS cumQty, cum_quote AS cumQuote, reason_code AS reasonCode,
  reason_text AS reasonText, created_ms AS createdMs, updated_ms AS updatedMs,
  trace_id AS traceId`;

const OPEN_STATES_SQL = OPEN_INTENT_STATES.map((s) => `'${s}'`).join(", ");

/**
 * The durable intent journal.
 *
 * @example
 * ```ts
 * const journal = new IntentJournal({ path: "./data/orders.db" });
 * const r = journal.record({ consumerId: "strat-a", clientOrderId: "o1", ... });
 * if ("duplicate" in r) answerFrom(r.duplicate); else send(r.venueClientId);
 * journal.close();
 * ```
 */
export class IntentJournal {
  /** The database path. */
  readonly path: string;
  #db: DatabaseSync | null;
  readonly #shared: boolean;
  #st: Statements;
  /**
   * The open (non-terminal) intents this journal wrote or read, by row id: the hot path (an
   * update per exchange message, the place answer) reads them here instead of SQLite. Exact
   * because this journal is the only writer of its rows (one connection per database, one
   * journal per connection) and a rollback empties it (`onRollback`). Bounded by the open
   * intents: a row leaves when it turns terminal.
   */
  readonly #openRows = new Map<number, IntentRow>();

  /** Opens (creating if needed) the journal. Throws on an unknown schema version. */
  constructor(opts?: IntentJournalOptions) {
    this.path = opts?.database !== undefined
      ? "(shared database)"
      : opts?.path ?? JOURNAL_MEMORY_PATH;
    this.#shared = opts?.database !== undefined;
    const db = opts?.database ??
      openDurableDatabase(this.path, { synchronous: opts?.synchronous ?? "normal" });
    try {
      this.#st = openSchema(db, this.path);
    } catch (err) {
      if (!this.#shared) db.close();
      throw err;
    }
    this.#db = db;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#db === null;
  }

  /**
   * Journals a new intent in state PENDING and derives its venue client id, in one committed
   * transaction (it is on disk when this returns). When the consumer already used
   * `clientOrderId`, nothing is written and the existing intent is returned as `duplicate`.
   */
  record(intent: IntentInput): IntentRow | { duplicate: IntentRow } {
    const st = this.#statements();
    return this.transaction(() => {
      const inserted = st.insert.get(
        intent.consumerId,
        intent.clientOrderId,
        intent.provider,
        intent.symbol,
        intent.side,
        intent.orderType,
        intent.timeInForce,
        intent.price,
        intent.qty,
        intent.createdMs,
        intent.createdMs,
        intent.traceId,
      ) as { id: number } | undefined;
      if (inserted === undefined) {
        const existing = this.byConsumerClientId(intent.consumerId, intent.clientOrderId);
        assert(existing !== undefined, "a conflicting insert has an existing row");
        return { duplicate: existing };
      }
      const venueClientId = venueClientIdOf(inserted.id);
      st.setVenueId.run(venueClientId, inserted.id);
      // The row as the INSERT's defaults and the UPDATE made it (no read back).
      const row: IntentRow = {
        id: inserted.id,
        consumerId: intent.consumerId,
        clientOrderId: intent.clientOrderId,
        provider: intent.provider,
        symbol: intent.symbol,
        side: intent.side,
        orderType: intent.orderType,
        timeInForce: intent.timeInForce,
        price: intent.price,
        qty: intent.qty,
        venueClientId,
        exchangeOrderId: "",
        state: "PENDING",
        cumQty: "0",
        cumQuote: "0",
        reasonCode: "",
        reasonText: "",
        createdMs: intent.createdMs,
        updatedMs: intent.createdMs,
        traceId: intent.traceId,
      };
      this.#remember(row);
      return row;
    });
  }

  /** The intent with journal row id `id`. */
  byId(id: number): IntentRow | undefined {
    const st = this.#statements();
    const cached = this.#openRows.get(id);
    if (cached !== undefined) return cached;
    const row = st.byId.get(id) as IntentRow | undefined;
    if (row !== undefined && !isTerminalIntentState(row.state)) this.#remember(row);
    return row;
  }

  /** The intent a consumer submitted under `clientOrderId`. */
  byConsumerClientId(consumerId: string, clientOrderId: string): IntentRow | undefined {
    return this.#statements().byClientId.get(consumerId, clientOrderId) as IntentRow | undefined;
  }

  /** The intent sent under `venueClientId`; undefined for ids the gateway did not derive. */
  byVenueClientId(venueClientId: string): IntentRow | undefined {
    const id = rowIdOfVenueClientId(venueClientId);
    if (id === null) return undefined;
    const row = this.byId(id);
    return row !== undefined && row.venueClientId === venueClientId ? row : undefined;
  }

  /** Intents not yet terminal (PENDING, SENT, ACK, PARTIAL), oldest first; of one provider when given. */
  open(provider?: string): IntentRow[] {
    const st = this.#statements();
    const rows = provider === undefined ? st.open.all() : st.openOfProvider.all(provider);
    return rows as unknown as IntentRow[];
  }

  /**
   * Applies `change` to intent `id` and returns the updated row. Throws when the intent is
   * unknown, already terminal with a different state, or the state would go backwards (the
   * gateway never asks for that: a throw here is a bug).
   */
  applyState(id: number, change: IntentChange): IntentRow {
    const st = this.#statements();
    const row = this.byId(id);
    if (row === undefined) {
      throw new Error(`intent journal: expected intent ${id} to exist, found none`);
    }
    const next = change.state ?? row.state;
    if (isTerminalIntentState(row.state) && next !== row.state) {
      throw new Error(
        `intent journal: expected terminal intent ${id} to stay ${row.state}, found a change to ${next}`,
      );
    }
    if (intentStateRank(next) < intentStateRank(row.state)) {
      throw new Error(
        `intent journal: expected intent ${id} to move forward from ${row.state}, found ${next}`,
      );
    }
    const updated: IntentRow = {
      ...row,
      state: next,
      exchangeOrderId: change.exchangeOrderId ?? row.exchangeOrderId,
      cumQty: change.cumQty ?? row.cumQty,
      cumQuote: change.cumQuote ?? row.cumQuote,
      reasonCode: change.reasonCode ?? row.reasonCode,
      reasonText: change.reasonText ?? row.reasonText,
      updatedMs: change.updatedMs,
    };
    st.update.run(
      updated.state,
      updated.exchangeOrderId,
      updated.cumQty,
      updated.cumQuote,
      updated.reasonCode,
      updated.reasonText,
      updated.updatedMs,
      id,
    );
    this.#remember(updated);
    return updated;
  }

  /**
   * Records a fill for de-duplication; returns false (and writes nothing) when this
   * (provider, venue client id, trade id) was recorded before.
   */
  recordFill(provider: string, tradeId: string, fill: FillRecord): boolean {
    const r = this.#statements().insertFill.run(
      provider,
      fill.venueClientId,
      tradeId,
      fill.qty,
      fill.price,
      fill.tsMs,
    );
    return Number(r.changes) === 1;
  }

  /** True when the fill was recorded before. */
  fillSeen(provider: string, venueClientId: string, tradeId: string): boolean {
    return this.#statements().fillSeen.get(provider, venueClientId, tradeId) !== undefined;
  }

  /** Stores a consumer's trading switch. */
  setTrading(consumerId: string, enabled: boolean, nowMs: number): void {
    this.#statements().setTrading.run(consumerId, enabled ? 1 : 0, nowMs);
  }

  /** A consumer's stored trading switch; null when none was ever stored. */
  tradingEnabled(consumerId: string): boolean | null {
    const row = this.#statements().trading.get(consumerId) as { enabled: number } | undefined;
    return row === undefined ? null : row.enabled === 1;
  }

  /** A consumer's intents, newest first, at most `limit` (1..1000). */
  list(consumerId: string, limit: number): IntentRow[] {
    if (!Number.isInteger(limit) || limit < 1 || limit > JOURNAL_LIST_ROWS_MAX) {
      throw new RangeError(
        `expected an integer limit in 1..${JOURNAL_LIST_ROWS_MAX}, found ${limit}`,
      );
    }
    return this.#statements().list.all(consumerId, limit) as unknown as IntentRow[];
  }

  /**
   * Runs `body` in one transaction (committed when it returns, rolled back when it throws).
   * Nested calls join the outer transaction.
   */
  transaction<T>(body: () => T): T {
    return inTransaction(this.#database(), body);
  }

  /**
   * Mirrors a row just written or read (frozen: callers share it), or forgets it once terminal.
   * A write inside a transaction is forgotten again if that transaction rolls back.
   */
  #remember(row: IntentRow): void {
    const db = this.#database();
    if (isTerminalIntentState(row.state) || inForeignTransaction(db)) {
      this.#openRows.delete(row.id);
      return;
    }
    this.#openRows.set(row.id, Object.freeze(row));
    onRollback(db, () => this.#openRows.clear());
  }

  /** Closes the database (idempotent); any later use throws. */
  close(): void {
    const db = this.#db;
    this.#db = null;
    this.#openRows.clear();
    if (db !== null && !this.#shared) db.close();
  }

  #database(): DatabaseSync {
    if (this.#db === null) {
      throw new Error(`intent journal "${this.path}": expected an open journal, found it closed`);
    }
    return this.#db;
  }

  #statements(): Statements {
    this.#database();
    return this.#st;
  }
}

function openSchema(db: DatabaseSync, path: string): Statements {
  claimSchemaVersion(db, SCHEMA, `intent journal "${path}"`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS intents (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      consumer_id TEXT NOT NULL,
      client_order_id TEXT NOT NULL,
      provider TEXT NOT NULL,
      symbol TEXT NOT NULL,
      side TEXT NOT NULL,
      order_type TEXT NOT NULL,
      time_in_force TEXT NOT NULL,
      price TEXT NOT NULL,
      qty TEXT NOT NULL,
      venue_client_id TEXT NOT NULL DEFAULT '',
      exchange_order_id TEXT NOT NULL DEFAULT '',
      state TEXT NOT NULL DEFAULT 'PENDING',
      cum_qty TEXT NOT NULL DEFAULT '0',
      cum_quote TEXT NOT NULL DEFAULT '0',
      reason_code TEXT NOT NULL DEFAULT '',
      reason_text TEXT NOT NULL DEFAULT '',
      created_ms INTEGER NOT NULL,
      updated_ms INTEGER NOT NULL,
      trace_id TEXT NOT NULL DEFAULT '',
      UNIQUE (consumer_id, client_order_id)
    );
    CREATE INDEX IF NOT EXISTS intents_open ON intents (provider, state);
    CREATE INDEX IF NOT EXISTS intents_consumer ON intents (consumer_id, id);
    CREATE TABLE IF NOT EXISTS fills (
      provider TEXT NOT NULL,
      venue_client_id TEXT NOT NULL,
      trade_id TEXT NOT NULL,
      qty TEXT NOT NULL,
      price TEXT NOT NULL,
      ts INTEGER NOT NULL,
      PRIMARY KEY (provider, venue_client_id, trade_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS trading (
      consumer_id TEXT PRIMARY KEY,
      enabled INTEGER NOT NULL,
      updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
  return {
    insert: db.prepare(
      `INSERT INTO intents (consumer_id, client_order_id, provider, symbol, side, order_type,
         time_in_force, price, qty, created_ms, updated_ms, trace_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (consumer_id, client_order_id) DO NOTHING
       RETURNING id`,
    ),
    setVenueId: db.prepare("UPDATE intents SET venue_client_id = ? WHERE id = ?"),
    byId: db.prepare(`SELECT ${ROW_COLUMNS} FROM intents WHERE id = ?`),
    byClientId: db.prepare(
      `SELECT ${ROW_COLUMNS} FROM intents WHERE consumer_id = ? AND client_order_id = ?`,
    ),
    open: db.prepare(
      `SELECT ${ROW_COLUMNS} FROM intents WHERE state IN (${OPEN_STATES_SQL}) ORDER BY id`,
    ),
    openOfProvider: db.prepare(
      `SELECT ${ROW_COLUMNS} FROM intents WHERE provider = ? AND state IN (${OPEN_STATES_SQL})
       ORDER BY id`,
    ),
    update: db.prepare(
      `UPDATE intents SET state = ?, exchange_order_id = ?, cum_qty = ?, cum_quote = ?,
         reason_code = ?, reason_text = ?, updated_ms = ? WHERE id = ?`,
    ),
    insertFill: db.prepare(
      `INSERT INTO fills (provider, venue_client_id, trade_id, qty, price, ts)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    fillSeen: db.prepare(
      "SELECT 1 AS seen FROM fills WHERE provider = ? AND venue_client_id = ? AND trade_id = ?",
    ),
    setTrading: db.prepare(
      `INSERT INTO trading (consumer_id, enabled, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (consumer_id) DO UPDATE SET enabled = excluded.enabled,
         updated_ms = excluded.updated_ms`,
    ),
    trading: db.prepare("SELECT enabled FROM trading WHERE consumer_id = ?"),
    list: db.prepare(
      `SELECT ${ROW_COLUMNS} FROM intents WHERE consumer_id = ? ORDER BY id DESC LIMIT ?`,
    ),
  };
}

/** Invariant check: a failure is a bug in the journal, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`intent journal invariant violated: ${what}`);
}
