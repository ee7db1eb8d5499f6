/**
 * ExecReportLog: the durable per-consumer log of execution reports (MISSION:
 * execution reports are never dropped or coalesced, and reach their consumer in order).
 *
 * Stored with `node:sqlite` (stable in Deno, no flag; WAL journal). Per consumer it keeps:
 *
 * - `head`: the last sequence assigned. {@linkcode ExecReportLog.append} assigns `head + 1`,
 *   so a consumer's reports are numbered 1, 2, 3, ... without holes, and the head survives
 *   pruning and restarts (it is never reused).
 * - the entries `(seq, report)`, read back in order by {@linkcode ExecReportLog.read}.
 * - `cursor`: the last sequence the consumer acknowledged ({@linkcode ExecReportLog.ack};
 *   never moves back). A consumer (re)created under the same id resumes after it.
 *
 * Bounded growth: acknowledging prunes the entries more than `replayEntriesMax` below the
 * cursor (they stay that long so a reconnecting client whose last frames were lost in transit
 * can rewind: `Consumer.resume`). What grows without an ack is what the consumer has not yet
 * received; {@linkcode ExecReportLog.forget} drops a consumer that is gone for good.
 *
 * Durability: `synchronous = NORMAL` by default, which in WAL mode survives a crash of the
 * process (the restart case this log exists for) but may lose the last commits on power loss;
 * `synchronous: "full"` syncs every commit. A `:memory:` log (tests, a gateway without a
 * configured path) opens its database only when first written, and lasts as long as the log.
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
import type { ExecReportData, ExecState } from "../schema/exec_report.ts";
import type { OrderType } from "../schema/order_request.ts";
import type { Side } from "../schema/event_kind.ts";

/** Acknowledged entries kept per consumer for rewinding, by default. */
export const REPLAY_ENTRIES_MAX_DEFAULT = 1024;
/** Most entries one {@linkcode ExecReportLog.read} returns. */
export const READ_ENTRIES_MAX = 4096;
/** The database path of a log that lives in memory. */
export const MEMORY_PATH = ":memory:";
/**
 * Most recently appended reports kept in memory per consumer, so that delivering a report just
 * appended does not read it back and parse its JSON (older ones are read from the database).
 */
export const RECENT_ENTRIES_MAX = 512;

/** This component's tables and their schema version (see `src/storage`). */
const SCHEMA = { name: "exec_report_log", version: 1 };

/** Options of {@linkcode ExecReportLog}. */
export interface ExecReportLogOptions {
  /** Database file, or `:memory:`. Default `:memory:`. */
  path?: string;
  /** Acknowledged entries kept per consumer for a rewind (>= 0). Default 1024. */
  replayEntriesMax?: number;
  /** `normal` (default) or `full` (sync on every commit). */
  synchronous?: "normal" | "full";
  /**
   * An open database to share (e.g. with the intent journal, so that a journal change and the
   * report it produces commit in one transaction). The log neither configures nor closes it;
   * `path` and `synchronous` are then ignored.
   */
  database?: DatabaseSync;
}

/** Where one consumer stands in the log. */
export interface ExecLogPosition {
  /** Last sequence assigned (0: none yet). */
  head: number;
  /** Last sequence acknowledged (0: none yet). */
  cursor: number;
  /** Smallest sequence still stored; `head + 1` when none is. */
  oldest: number;
}

interface Statements {
  nextSeq: StatementSync;
  insert: StatementSync;
  read: StatementSync;
  position: StatementSync;
  oldest: StatementSync;
  ack: StatementSync;
  prune: StatementSync;
  forgetEntries: StatementSync;
  forgetCursor: StatementSync;
  count: StatementSync;
}

/**
 * A durable, per-consumer, append-only log of execution reports.
 *
 * @example
 * ```ts
 * const log = new ExecReportLog({ path: "./data/exec_reports.db" });
 * const stored = log.append("strategy-a", report); // stored.seq === 1
 * log.read("strategy-a", 0, 100); // [stored]
 * log.ack("strategy-a", stored.seq); // persisted cursor, prunes below it
 * log.close();
 * ```
 */
export class ExecReportLog {
  /** The database path. */
  readonly path: string;
  /** Acknowledged entries kept per consumer. */
  readonly replayEntriesMax: number;
  readonly #synchronous: "normal" | "full";
  readonly #shared: DatabaseSync | null;
  #db: DatabaseSync | null = null;
  #st: Statements | null = null;
  #closed = false;
  /**
   * Per consumer, the reports appended last, by seq (copies of what is stored; a rollback
   * empties it). Exact because this log is the only writer of its tables.
   */
  readonly #recent = new Map<string, Map<number, ExecReportData>>();
  /**
   * Acknowledgements not yet written, by consumer: acks of one task are coalesced into one
   * transaction at the end of it (a microtask), or into the next append, whichever comes
   * first; every read flushes them first, so they are never observable as pending.
   */
  readonly #pendingAcks = new Map<string, number>();
  #flushQueued = false;

  /** Opens (creating if needed) the log; a `:memory:` log opens on first write. */
  constructor(opts?: ExecReportLogOptions) {
    this.path = opts?.database !== undefined ? "(shared database)" : opts?.path ?? MEMORY_PATH;
    const replay = opts?.replayEntriesMax ?? REPLAY_ENTRIES_MAX_DEFAULT;
    if (!Number.isInteger(replay) || replay < 0) {
      throw new RangeError(`expected an integer replayEntriesMax >= 0, found ${replay}`);
    }
    this.replayEntriesMax = replay;
    this.#synchronous = opts?.synchronous ?? "normal";
    this.#shared = opts?.database ?? null;
    if (this.path !== MEMORY_PATH || this.#shared !== null) this.#open();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Appends a copy of `report` for `consumerId`, assigning the consumer's next sequence (its
   * `seq` field is ignored, an empty `consumerId` is filled in); returns the stored copy. Throws
   * when the report names another consumer. Atomic: a failure stores nothing.
   */
  append(consumerId: string, report: ExecReportData): ExecReportData {
    if (report.consumerId !== "" && report.consumerId !== consumerId) {
      throw new Error(
        `exec report log: expected a report of consumer "${consumerId}", found one of "${report.consumerId}"`,
      );
    }
    const st = this.#statements(true)!;
    return this.#transaction(() => {
      this.#writePendingAcks(st);
      const row = st.nextSeq.get(consumerId) as { head: number } | undefined;
      assert(row !== undefined, "the upsert returns the new head");
      const stored = copyReport(report, row.head, consumerId);
      st.insert.run(consumerId, row.head, JSON.stringify(stored));
      this.#rememberRecent(consumerId, stored);
      return stored;
    });
  }

  /** Up to `limit` (1..4096) entries with `seq > afterSeq`, oldest first. */
  read(consumerId: string, afterSeq: number, limit: number): ExecReportData[] {
    if (!Number.isInteger(limit) || limit < 1 || limit > READ_ENTRIES_MAX) {
      throw new RangeError(`expected an integer limit in 1..${READ_ENTRIES_MAX}, found ${limit}`);
    }
    const st = this.#statements(false);
    if (st === null) return [];
    const recent = this.#recent.get(consumerId);
    if (recent !== undefined && recent.has(afterSeq + 1)) {
      // Appended seqs are contiguous: serve the run kept in memory (copies, as parsed rows are).
      const out: ExecReportData[] = [];
      for (let seq = afterSeq + 1; out.length < limit; seq++) {
        const r = recent.get(seq);
        if (r === undefined) break;
        out.push(copyReport(r, seq, consumerId));
      }
      return out;
    }
    this.#flushAcks();
    const rows = st.read.all(consumerId, afterSeq, limit) as { seq: number; report: string }[];
    return rows.map((r) => parseReport(r.report, r.seq, consumerId));
  }

  /** The consumer's head, cursor and oldest stored sequence (zeros for an unknown consumer). */
  position(consumerId: string): ExecLogPosition {
    const st = this.#statements(false);
    if (st === null) return { head: 0, cursor: 0, oldest: 1 };
    this.#flushAcks();
    const row = st.position.get(consumerId) as { head: number; cursor: number } | undefined;
    const head = row?.head ?? 0;
    const oldest = st.oldest.get(consumerId) as { seq: number | null } | undefined;
    return { head, cursor: row?.cursor ?? 0, oldest: oldest?.seq ?? head + 1 };
  }

  /** Last sequence acknowledged by `consumerId` (0: none). */
  cursor(consumerId: string): number {
    return this.position(consumerId).cursor;
  }

  /** Last sequence assigned to `consumerId` (0: none). */
  head(consumerId: string): number {
    return this.position(consumerId).head;
  }

  /**
   * Acknowledges everything up to `seq` (the cursor never moves back) and prunes what lies more
   * than `replayEntriesMax` below the new cursor, in one transaction. Throws when `seq` is
   * beyond the head. Returns the cursor.
   */
  ack(consumerId: string, seq: number): number {
    if (!Number.isInteger(seq) || seq < 0) {
      throw new RangeError(`expected an integer seq >= 0 to acknowledge, found ${seq}`);
    }
    const st = this.#statements(false);
    // Head and cursor only (one row): the oldest entry does not matter here.
    const row = st === null
      ? undefined
      : st.position.get(consumerId) as { head: number; cursor: number } | undefined;
    const head = row?.head ?? 0;
    const cursor = Math.max(row?.cursor ?? 0, this.#pendingAcks.get(consumerId) ?? 0);
    if (seq > head) {
      throw new RangeError(
        `consumer "${consumerId}": expected an ack at most head ${head}, found ${seq}`,
      );
    }
    if (seq <= cursor) return cursor;
    this.#pendingAcks.set(consumerId, seq);
    this.#forgetRecentUpTo(consumerId, seq - this.replayEntriesMax);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => {
        this.#flushQueued = false;
        if (this.#closed) return;
        try {
          this.#flushAcks();
        } catch {
          // Rolled back: the acks stay pending, and the next read or write retries them (and
          // throws to its caller if the database is still failing).
        }
      });
    }
    return seq;
  }

  /** Deletes the entries more than `keepAcked` (default `replayEntriesMax`) below the cursor. */
  prune(consumerId: string, keepAcked = this.replayEntriesMax): number {
    if (!Number.isInteger(keepAcked) || keepAcked < 0) {
      throw new RangeError(`expected an integer keepAcked >= 0, found ${keepAcked}`);
    }
    const st = this.#statements(false);
    if (st === null) return 0;
    const cursor = this.cursor(consumerId);
    this.#forgetRecentUpTo(consumerId, cursor - keepAcked);
    return Number(st.prune.run(consumerId, cursor - keepAcked).changes);
  }

  /** Entries stored for `consumerId`. */
  size(consumerId: string): number {
    const st = this.#statements(false);
    if (st === null) return 0;
    this.#flushAcks();
    return (st.count.get(consumerId) as { n: number }).n;
  }

  /** Deletes everything about `consumerId` (a consumer gone for good); its sequence restarts. */
  forget(consumerId: string): void {
    const st = this.#statements(false);
    if (st === null) return;
    this.#flushAcks();
    this.#recent.delete(consumerId);
    this.#transaction(() => {
      st.forgetEntries.run(consumerId);
      st.forgetCursor.run(consumerId);
    });
  }

  /** Closes the database (idempotent); any later use throws. */
  close(): void {
    if (this.#closed) return;
    if (this.#st !== null) this.#flushAcks();
    this.#closed = true;
    this.#recent.clear();
    this.#st = null;
    const db = this.#db;
    this.#db = null;
    if (db !== null && db !== this.#shared) db.close();
  }

  /** The prepared statements; null for a `:memory:` log never written (it holds nothing). */
  #statements(forWrite: boolean): Statements | null {
    if (this.#closed) {
      throw new Error(`exec report log "${this.path}": expected an open log, found it closed`);
    }
    if (this.#st === null && forWrite) this.#open();
    return this.#st;
  }

  #open(): void {
    const db = this.#shared ?? openDurableDatabase(this.path, { synchronous: this.#synchronous });
    try {
      claimSchemaVersion(db, SCHEMA, `exec report log "${this.path}"`);
      db.exec(`
        CREATE TABLE IF NOT EXISTS exec_report_cursor (
          consumer_id TEXT PRIMARY KEY,
          head_seq INTEGER NOT NULL,
          acked_seq INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS exec_report_entry (
          consumer_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          report TEXT NOT NULL,
          PRIMARY KEY (consumer_id, seq)
        ) WITHOUT ROWID;
      `);
      this.#st = {
        nextSeq: db.prepare(
          `INSERT INTO exec_report_cursor (consumer_id, head_seq, acked_seq) VALUES (?, 1, 0)
           ON CONFLICT (consumer_id) DO UPDATE SET head_seq = head_seq + 1
           RETURNING head_seq AS head`,
        ),
        insert: db.prepare(
          "INSERT INTO exec_report_entry (consumer_id, seq, report) VALUES (?, ?, ?)",
        ),
        read: db.prepare(
          `SELECT seq, report FROM exec_report_entry WHERE consumer_id = ? AND seq > ?
           ORDER BY seq LIMIT ?`,
        ),
        position: db.prepare(
          `SELECT head_seq AS head, acked_seq AS cursor FROM exec_report_cursor
           WHERE consumer_id = ?`,
        ),
        oldest: db.prepare("SELECT min(seq) AS seq FROM exec_report_entry WHERE consumer_id = ?"),
        ack: db.prepare(
          "UPDATE exec_report_cursor SET acked_seq = max(acked_seq, ?) WHERE consumer_id = ?",
        ),
        prune: db.prepare("DELETE FROM exec_report_entry WHERE consumer_id = ? AND seq <= ?"),
        forgetEntries: db.prepare("DELETE FROM exec_report_entry WHERE consumer_id = ?"),
        forgetCursor: db.prepare("DELETE FROM exec_report_cursor WHERE consumer_id = ?"),
        count: db.prepare("SELECT count(*) AS n FROM exec_report_entry WHERE consumer_id = ?"),
      };
    } catch (err) {
      if (db !== this.#shared) db.close();
      throw err;
    }
    this.#db = db;
  }

  #transaction<T>(body: () => T): T {
    return inTransaction(this.#db!, body);
  }

  /** Writes the pending acknowledgements (cursor, then prune) in one transaction. */
  #flushAcks(): void {
    if (this.#pendingAcks.size === 0) return;
    const st = this.#st;
    assert(st !== null, "acks are pending only on an opened log");
    this.#transaction(() => this.#writePendingAcks(st));
  }

  /** Inside a transaction: the pending acknowledgements' statements. */
  #writePendingAcks(st: Statements): void {
    if (this.#pendingAcks.size === 0) return;
    const acks = [...this.#pendingAcks];
    this.#pendingAcks.clear();
    // Rolled back with the transaction: pending again, for the next write or read.
    onRollback(this.#db!, () => {
      for (const [consumerId, seq] of acks) {
        const later = this.#pendingAcks.get(consumerId) ?? 0;
        if (seq > later) this.#pendingAcks.set(consumerId, seq);
      }
    });
    for (const [consumerId, seq] of acks) {
      st.ack.run(seq, consumerId);
      st.prune.run(consumerId, seq - this.replayEntriesMax);
    }
  }

  /** Keeps a stored report in the consumer's recent run (dropped again on a rollback). */
  #rememberRecent(consumerId: string, stored: ExecReportData): void {
    const db = this.#db!;
    if (inForeignTransaction(db)) {
      this.#recent.delete(consumerId);
      return;
    }
    let recent = this.#recent.get(consumerId);
    if (recent === undefined) {
      recent = new Map();
      this.#recent.set(consumerId, recent);
    }
    recent.set(stored.seq, stored);
    // Insertion order is seq order: the first key is the oldest kept.
    if (recent.size > RECENT_ENTRIES_MAX) recent.delete(recent.keys().next().value!);
    onRollback(db, () => this.#recent.clear());
  }

  /** Drops the recent entries with `seq <= upTo` (pruned, or never to be delivered again). */
  #forgetRecentUpTo(consumerId: string, upTo: number): void {
    const recent = this.#recent.get(consumerId);
    if (recent === undefined) return;
    for (const seq of recent.keys()) {
      if (seq > upTo) break;
      recent.delete(seq);
    }
  }
}

/** A plain copy of `r` with sequence `seq`, owned by `consumerId`. */
function copyReport(r: ExecReportData, seq: number, consumerId: string): ExecReportData {
  return {
    seq,
    consumerId,
    provider: r.provider,
    symbol: r.symbol,
    clientOrderId: r.clientOrderId,
    exchangeOrderId: r.exchangeOrderId,
    side: r.side,
    orderType: r.orderType,
    state: r.state,
    price: r.price,
    qty: r.qty,
    cumQty: r.cumQty,
    lastQty: r.lastQty,
    lastPx: r.lastPx,
    cumQuote: r.cumQuote,
    fee: r.fee,
    feeAsset: r.feeAsset,
    exchangeTradeId: r.exchangeTradeId,
    reasonCode: r.reasonCode,
    reasonText: r.reasonText,
    exchangeTsMs: r.exchangeTsMs,
    recvTsMs: r.recvTsMs,
    traceId: r.traceId,
  };
}

/** Reads a stored report back field by field (a stored row is trusted but not its shape). */
function parseReport(text: string, seq: number, consumerId: string): ExecReportData {
  const v = JSON.parse(text) as Record<string, unknown>;
  assert(v !== null && typeof v === "object", `stored report ${consumerId}#${seq} is an object`);
  return {
    seq,
    consumerId: str(v.consumerId),
    provider: str(v.provider),
    symbol: str(v.symbol),
    clientOrderId: str(v.clientOrderId),
    exchangeOrderId: str(v.exchangeOrderId),
    side: str(v.side) as Side,
    orderType: str(v.orderType) as OrderType,
    state: str(v.state) as ExecState,
    price: str(v.price),
    qty: str(v.qty),
    cumQty: str(v.cumQty),
    lastQty: str(v.lastQty),
    lastPx: str(v.lastPx),
    cumQuote: str(v.cumQuote),
    fee: str(v.fee),
    feeAsset: str(v.feeAsset),
    exchangeTradeId: str(v.exchangeTradeId),
    reasonCode: str(v.reasonCode),
    reasonText: str(v.reasonText),
    exchangeTsMs: num(v.exchangeTsMs),
    recvTsMs: num(v.recvTsMs),
    traceId: str(v.traceId),
  };
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

/** Invariant check: a failure is a bug in the log, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`exec report log invariant violated: ${what}`);
}
