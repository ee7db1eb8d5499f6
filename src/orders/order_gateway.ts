/**
 * OrderGateway: the exchange-neutral order path. Consumers' {@linkcode OrderRequest}s come in;
 * the gateway checks them, journals them durably, sends them through an {@linkcode OrderVenue},
 * and turns what the exchange says into {@linkcode ExecReport}s for the owning consumer.
 *
 * Guarantees and how they are kept:
 *
 * - **Never sent twice.** Every new order is journaled (committed) before it is sent. A second
 *   submit with the same consumer and client order id is answered from the journal with
 *   `duplicate_client_order_id` and the journaled order, also after a restart. Nothing is ever
 *   re-sent: a send that timed out or lost its connection becomes SENT (outcome unknown) and the
 *   gateway queries the exchange by the venue client id before anything else. Found: the
 *   exchange's state is adopted. Not found: the order is closed REJECTED `timeout_not_found`
 *   and NOT resent (the consumer decides, with a new client order id). An intent still PENDING
 *   at startup (the process died before or while sending) is queried the same way and, when the
 *   exchange does not know it, closed REJECTED `not_sent_before_restart`.
 * - **Trading switch.** A consumer whose switch is off (or never set, unless `tradingDefault`)
 *   gets `trading_disabled` and nothing reaches an exchange: neither new orders nor cancels.
 *   The switch is stored in the journal, so it survives restarts.
 * - **Reports.** Lossless, in order, never duplicated: fills are de-duplicated by (provider,
 *   venue client id, exchange trade id) and by cumulative-quantity monotonicity; states never go
 *   backwards; a consumer always sees ACK first; missed fills are synthesized from the
 *   exchange's cumulative quantity (see `exec_update_plan.ts`). A journal change and the reports
 *   it produces are delivered inside one journal transaction: when `deliver` appends to an
 *   execution-report log sharing the journal's database (`src/storage`; the gateway wires it
 *   so), a crash keeps both or neither, and reconciliation re-derives what was rolled back.
 * - **Pools.** A submitted request is released exactly once: at the exchange's answer (accept,
 *   reject, timeout, lost connection) or at once on a local refusal. Each report is acquired,
 *   delivered (the receiver copies it) and released before the next.
 * - **Reconcile.** At start and whenever a venue reports it resynced, every open intent of that
 *   venue is compared with the exchange (open orders, then a query for each one not open) and
 *   the missing reports are emitted. A reconcile that could not compare every intent (a request
 *   failed: timeout, rate limit, venue not up yet), or a post-timeout query that failed, is
 *   retried on a timer with backoff: a restart must not wait for a reconnect that may never come
 *   to report what happened while the gateway was down.
 *
 * @module
 */

import type { BoundedPool } from "../pool/mod.ts";
import { ExecReport } from "../schema/exec_report.ts";
import { isConsumerId, type OrderRequest, validateOrderRequest } from "../schema/order_request.ts";
import { componentLogger, type Logger } from "../telemetry/logger.ts";
import {
  type ExecUpdatePlan,
  planExecUpdate,
  type PlannedReport,
  updateOfStatus,
} from "./exec_update_plan.ts";
import { parseDecimal } from "./exact_decimal.ts";
import {
  type IntentJournal,
  type IntentRow,
  intentStateRank,
  isTerminalIntentState,
} from "./intent_journal.ts";
import { checkOrderFilters } from "./order_filters.ts";
import {
  type IntentView,
  intentViewOf,
  type OrderOutcome,
  type OrderRefusalCode,
} from "./order_outcome.ts";
import {
  type OrderVenue,
  type VenueExecUpdate,
  type VenueOrder,
  type VenueOrderStatus,
  VenueTimeoutError,
} from "./order_venue.ts";

/** Default deadline of every venue request, in ms. */
export const REQUEST_TIMEOUT_MS_DEFAULT = 5000;
/** Default first delay before an incomplete reconcile is retried, in ms (doubles per failure). */
export const RECONCILE_RETRY_DELAY_MS_DEFAULT = 500;
/** Longest delay between retries of an incomplete reconcile, in ms. */
export const RECONCILE_RETRY_DELAY_MS_MAX = 30_000;
/** Default number of orders {@linkcode OrderGateway.orders} returns. */
export const ORDERS_LIST_LIMIT_DEFAULT = 100;

/** Reason code of an order closed because its send timed out and the exchange does not know it. */
export const REASON_TIMEOUT_NOT_FOUND = "timeout_not_found";
/** Reason code of an order journaled before a restart that the exchange does not know. */
export const REASON_NOT_SENT_BEFORE_RESTART = "not_sent_before_restart";

/** The pools the gateway takes requests from and reports into. */
export interface OrderGatewayPools {
  orderRequests: BoundedPool<OrderRequest>;
  execReports: BoundedPool<ExecReport>;
}

/** Options of {@linkcode OrderGateway}. */
export interface OrderGatewayOptions {
  /** The durable intent journal (owned by the caller, who closes it after the gateway). */
  journal: IntentJournal;
  /** Venues by provider name (each venue's `provider` must equal its key). */
  venues: ReadonlyMap<string, OrderVenue>;
  pools: OrderGatewayPools;
  /**
   * Receives every report, synchronously; it must copy what it keeps (e.g.
   * `ConsumerRegistry.enqueueExecReport`): the gateway releases the report right after.
   */
  deliver: (report: ExecReport) => void;
  /** Time source, ms since epoch. Default `Date.now`. */
  clock?: () => number;
  /** Deadline of every venue request, in ms. Default 5000. */
  requestTimeoutMs?: number;
  /**
   * First delay before an incomplete reconcile is retried, in ms; doubles per consecutive
   * failure up to {@linkcode RECONCILE_RETRY_DELAY_MS_MAX}. Default 500.
   */
  reconcileRetryDelayMs?: number;
  logger?: Logger;
  /** Whether a consumer with no stored switch may trade. Default false. */
  tradingDefault?: boolean;
}

/** Counters of {@linkcode OrderGateway.stats}. */
export interface OrderGatewayStats {
  /** submit() calls. */
  submitted: number;
  refusedTradingDisabled: number;
  /** Submits answered from the journal (duplicate client order id). */
  duplicates: number;
  filterRejects: number;
  /** Other local refusals of submits (invalid, unknown provider/symbol, venue unavailable). */
  refusedOther: number;
  /** Orders handed to a venue. */
  sent: number;
  /** Place requests the exchange accepted. */
  acked: number;
  /** Orders closed REJECTED (by the exchange, or after a timeout/restart not found). */
  rejected: number;
  /** Place requests without an answer (timeout or lost connection). */
  timeouts: number;
  /** Fills ignored as replays (trade id seen, or cumulative quantity not above the journal's). */
  fillsDeduplicated: number;
  /** Intents that a reconcile or a post-timeout query changed. */
  reconciled: number;
  /** Reports delivered. */
  reportsEmitted: number;
  /** Updates for orders the journal does not know (another client on the account). */
  unknownUpdates: number;
  /** Updates ignored as inconsistent (FILLED without quantity growth). */
  inconsistentUpdates: number;
  /** cancel() calls handed to a venue. */
  cancelsSent: number;
  /** Cancels the exchange refused (logged; no report). */
  cancelsRejected: number;
  /** Queries, open-order listings and cancels that failed (logged; retried at the next reconcile). */
  venueRequestErrors: number;
  /** Reports allocated outside the pool because it was exhausted (kept lossless). */
  reportPoolMisses: number;
  /** deliver() calls that threw. */
  deliverErrors: number;
}

function zeroStats(): OrderGatewayStats {
  return {
    submitted: 0,
    refusedTradingDisabled: 0,
    duplicates: 0,
    filterRejects: 0,
    refusedOther: 0,
    sent: 0,
    acked: 0,
    rejected: 0,
    timeouts: 0,
    fillsDeduplicated: 0,
    reconciled: 0,
    reportsEmitted: 0,
    unknownUpdates: 0,
    inconsistentUpdates: 0,
    cancelsSent: 0,
    cancelsRejected: 0,
    venueRequestErrors: 0,
    reportPoolMisses: 0,
    deliverErrors: 0,
  };
}

/**
 * The order gateway (see the module doc).
 *
 * @example
 * ```ts
 * const gw = new OrderGateway({ journal, venues, pools, deliver: (r) => registry.enqueueExecReport(r) });
 * await gw.start();
 * gw.setTrading("strat-a", true);
 * const req = pools.orderRequests.tryAcquire()!; // fill it in, then:
 * const outcome = gw.submit(req); // { ok: true } or a refusal; the gateway owns req now
 * ```
 */
export class OrderGateway {
  readonly #journal: IntentJournal;
  readonly #venues: ReadonlyMap<string, OrderVenue>;
  readonly #pools: OrderGatewayPools;
  readonly #deliver: (report: ExecReport) => void;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #tradingDefault: boolean;
  readonly #trading = new Map<string, boolean>();
  /** Venue client ids with a place request in flight (reconcile leaves them to the sender). */
  readonly #placing = new Set<string>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #reconciling = new Map<string, Promise<void>>();
  readonly #reconcileAgain = new Set<string>();
  readonly #reconcileRetryDelayMs: number;
  /** Per provider: the pending retry timer of an incomplete reconcile, and the next delay. */
  readonly #reconcileRetry = new Map<
    string,
    { timerId: ReturnType<typeof setTimeout> | null; delayMs: number }
  >();
  #stats = zeroStats();
  #closed = false;

  /** Creates the gateway; nothing runs until {@linkcode OrderGateway.start}. */
  constructor(opts: OrderGatewayOptions) {
    for (const [provider, venue] of opts.venues) {
      if (venue.provider !== provider) {
        throw new Error(
          `order gateway: expected venue under "${provider}" to be that provider, found "${venue.provider}"`,
        );
      }
    }
    const timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`expected requestTimeoutMs > 0, found ${timeoutMs}`);
    }
    const retryMs = opts.reconcileRetryDelayMs ?? RECONCILE_RETRY_DELAY_MS_DEFAULT;
    if (!Number.isFinite(retryMs) || retryMs <= 0 || retryMs > RECONCILE_RETRY_DELAY_MS_MAX) {
      throw new RangeError(
        `expected reconcileRetryDelayMs in (0, ${RECONCILE_RETRY_DELAY_MS_MAX}], found ${retryMs}`,
      );
    }
    this.#reconcileRetryDelayMs = retryMs;
    this.#journal = opts.journal;
    this.#venues = opts.venues;
    this.#pools = opts.pools;
    this.#deliver = opts.deliver;
    this.#clock = opts.clock ?? Date.now;
    this.#timeoutMs = timeoutMs;
    this.#log = opts.logger ?? componentLogger("orders");
    this.#tradingDefault = opts.tradingDefault ?? false;
  }

  /**
   * Sets every venue's listener, starts the venues (one that fails to start is logged; wrapped
   * in a `VenueSupervisor`, as the gateway does, it is retried with backoff and reports
   * `onResynced` when up), then reconciles every provider.
   */
  async start(): Promise<void> {
    for (const [provider, venue] of this.#venues) {
      venue.setListener({
        onUpdate: (u) => this.#onUpdate(provider, u),
        onResynced: () => void this.reconcile(provider),
      });
    }
    await Promise.all(
      [...this.#venues].map(async ([provider, venue]) => {
        try {
          await venue.start();
        } catch (err) {
          this.#log.error("venue {provider} failed to start: {error}", { provider, error: err });
        }
      }),
    );
    await Promise.all([...this.#venues.keys()].map((p) => this.reconcile(p)));
  }

  /**
   * Submits a new order (action "new"). Takes ownership of the pooled `req` and releases it
   * exactly once. Synchronous checks, in order: the request itself, the trading switch, a
   * duplicate client order id (answered from the journal, never re-sent), the provider, the
   * venue being ready, the symbol and the exchange filters. Then the intent is journaled
   * (durably) and the send starts; its outcome arrives as execution reports.
   */
  submit(req: OrderRequest): OrderOutcome {
    this.#stats.submitted++;
    const refused = this.#admit(req, "new");
    if (refused !== null) return refused;
    const existing = this.#journal.byConsumerClientId(req.consumerId, req.clientOrderId);
    if (existing !== undefined) return this.#refuseDuplicate(req, existing);
    const venue = this.#venues.get(req.provider);
    if (venue === undefined) {
      return this.#refuse(
        req,
        "unknown_provider",
        `expected one of the providers ${
          [...this.#venues.keys()].join(", ")
        }, found "${req.provider}"`,
      );
    }
    if (!venue.ready) {
      return this.#refuse(
        req,
        "venue_unavailable",
        `expected provider ${req.provider} connected and authenticated, found it unavailable`,
      );
    }
    const rules = venue.rules(req.symbol);
    if (rules === undefined) {
      return this.#refuse(
        req,
        "unknown_symbol",
        `expected a symbol ${req.provider} trades, found "${req.symbol}"`,
      );
    }
    const order: VenueOrder = {
      venueClientId: "",
      symbol: req.symbol,
      side: req.side as "buy" | "sell",
      orderType: req.orderType as "limit" | "market",
      timeInForce: req.timeInForce,
      price: req.price,
      qty: req.qty,
    };
    const violation = checkOrderFilters(order, rules);
    if (violation !== null) {
      this.#stats.filterRejects++;
      return this.#refuse(req, "filter_violation", `${req.provider} ${req.symbol} ${violation}`);
    }
    const recorded = this.#recordIntent(req);
    if ("duplicate" in recorded) return this.#refuseDuplicate(req, recorded.duplicate);
    order.venueClientId = recorded.venueClientId;
    this.#placing.add(order.venueClientId);
    this.#stats.sent++;
    this.#track(this.#place(venue, recorded, order, req));
    return { ok: true };
  }

  /**
   * Cancels one of the consumer's orders by its client order id (action "cancel"). Takes
   * ownership of `req` and releases it once (at the exchange's answer, or at once on a local
   * refusal). The CANCELLED report follows from the exchange; a refused cancel is logged and
   * counted (there is no report state for it).
   */
  cancel(req: OrderRequest): OrderOutcome {
    const refused = this.#admit(req, "cancel");
    if (refused !== null) return refused;
    const row = this.#journal.byConsumerClientId(req.consumerId, req.clientOrderId);
    if (row === undefined) {
      return this.#refuse(
        req,
        "unknown_order",
        `expected an order of consumer "${req.consumerId}" with client order id "${req.clientOrderId}", found none`,
      );
    }
    if (row.provider !== req.provider || row.symbol !== req.symbol) {
      return this.#refuse(
        req,
        "unknown_order",
        `expected order "${req.clientOrderId}" on ${req.provider} ${req.symbol}, found it on ${row.provider} ${row.symbol}`,
      );
    }
    if (isTerminalIntentState(row.state)) {
      return this.#refuse(
        req,
        "order_closed",
        `expected an open order, found "${req.clientOrderId}" ${row.state}`,
        row,
      );
    }
    const venue = this.#venues.get(row.provider);
    if (venue === undefined) {
      return this.#refuse(
        req,
        "unknown_provider",
        `expected a configured provider, found "${row.provider}"`,
      );
    }
    if (!venue.ready) {
      return this.#refuse(
        req,
        "venue_unavailable",
        `expected provider ${row.provider} connected and authenticated, found it unavailable`,
      );
    }
    this.#stats.cancelsSent++;
    this.#track(this.#cancel(venue, row, req));
    return { ok: true };
  }

  /** Turns a consumer's trading on or off (stored durably; effective for the next request). */
  setTrading(consumerId: string, enabled: boolean): void {
    if (!isConsumerId(consumerId)) {
      throw new RangeError(`expected a consumer id, found "${consumerId}"`);
    }
    this.#journal.setTrading(consumerId, enabled, this.#clock());
    this.#trading.set(consumerId, enabled);
  }

  /** Whether a consumer may trade (its stored switch, else `tradingDefault`). */
  tradingEnabled(consumerId: string): boolean {
    const cached = this.#trading.get(consumerId);
    if (cached !== undefined) return cached;
    const enabled = this.#journal.tradingEnabled(consumerId) ?? this.#tradingDefault;
    this.#trading.set(consumerId, enabled);
    return enabled;
  }

  /** A consumer's orders, newest first (at most `limit`, 1..1000, default 100). */
  orders(consumerId: string, limit: number = ORDERS_LIST_LIMIT_DEFAULT): IntentView[] {
    return this.#journal.list(consumerId, limit).map(intentViewOf);
  }

  /**
   * Compares every open intent of `provider` with the exchange and emits what was missed.
   * Venue errors are logged and counted, and an incomplete run is retried on a timer (backoff
   * from `reconcileRetryDelayMs`, doubling, at most 30 s) as well as at the next resync; never
   * rejects. Concurrent calls for one provider share a run, followed by one more run.
   */
  reconcile(provider: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const running = this.#reconciling.get(provider);
    if (running !== undefined) {
      this.#reconcileAgain.add(provider);
      return running;
    }
    const run = (async () => {
      let complete = false;
      do {
        this.#reconcileAgain.delete(provider);
        try {
          complete = await this.#reconcileOnce(provider);
        } catch (err) {
          complete = false;
          this.#stats.venueRequestErrors++;
          this.#log.error("reconcile of {provider} failed: {error}", { provider, error: err });
        }
      } while (this.#reconcileAgain.has(provider) && !this.#closed);
      if (complete) this.#reconcileSucceeded(provider);
      else this.#retryReconcile(provider);
    })().finally(() => this.#reconciling.delete(provider));
    this.#reconciling.set(provider, run);
    this.#track(run);
    return run;
  }

  /** A snapshot of the counters. */
  stats(): OrderGatewayStats {
    return { ...this.#stats };
  }

  /**
   * Refuses new requests, closes the venues (pending requests end as lost connections: their
   * intents become SENT and are settled at the next start) and waits for every task. Does not
   * close the journal (the caller's).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const retry of this.#reconcileRetry.values()) {
      if (retry.timerId !== null) clearTimeout(retry.timerId);
      retry.timerId = null;
    }
    await Promise.all(
      [...this.#venues].map(async ([provider, venue]) => {
        try {
          await venue.close();
        } catch (err) {
          this.#log.warning("venue {provider} failed to close: {error}", { provider, error: err });
        }
      }),
    );
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  // ---- submit and cancel -------------------------------------------------------------------

  /**
   * The checks submit and cancel share: the action, the request itself, a running gateway, the
   * consumer's trading switch. Null when admitted; else the refusal (`req` released).
   */
  #admit(req: OrderRequest, action: "new" | "cancel"): OrderOutcome | null {
    if (req.action !== action) {
      return this.#refuse(
        req,
        "invalid_order",
        `${
          action === "new" ? "submit" : "cancel"
        }: expected action ${action}, found "${req.action}"`,
      );
    }
    const invalid = validateOrderRequest(req);
    if (invalid !== null) return this.#refuse(req, "invalid_order", invalid);
    if (this.#closed) {
      return this.#refuse(req, "venue_unavailable", "expected a running gateway, found it closed");
    }
    if (!this.tradingEnabled(req.consumerId)) {
      this.#stats.refusedTradingDisabled++;
      return this.#refuse(
        req,
        "trading_disabled",
        `expected trading enabled for consumer "${req.consumerId}", found it disabled`,
      );
    }
    return null;
  }

  #refuse(
    req: OrderRequest,
    code: OrderRefusalCode,
    message: string,
    row?: IntentRow,
  ): OrderOutcome {
    if (
      code !== "trading_disabled" && code !== "filter_violation" &&
      code !== "duplicate_client_order_id"
    ) {
      if (req.action === "new") this.#stats.refusedOther++;
    }
    this.#pools.orderRequests.release(req);
    return row === undefined
      ? { ok: false, code, message }
      : { ok: false, code, message, existing: intentViewOf(row) };
  }

  #refuseDuplicate(req: OrderRequest, row: IntentRow): OrderOutcome {
    this.#stats.duplicates++;
    const message =
      `expected a new client order id for consumer "${req.consumerId}", found "${req.clientOrderId}" already used (${row.state}); not sent again`;
    return this.#refuse(req, "duplicate_client_order_id", message, row);
  }

  /** Journals the intent; on a journal failure releases `req` and rethrows (nothing was sent). */
  #recordIntent(req: OrderRequest): IntentRow | { duplicate: IntentRow } {
    try {
      return this.#journal.record({
        consumerId: req.consumerId,
        clientOrderId: req.clientOrderId,
        provider: req.provider,
        symbol: req.symbol,
        side: req.side,
        orderType: req.orderType,
        timeInForce: req.timeInForce,
        price: req.price,
        qty: req.qty,
        createdMs: this.#clock(),
        traceId: req.traceId,
      });
    } catch (err) {
      this.#pools.orderRequests.release(req);
      throw err;
    }
  }

  async #place(
    venue: OrderVenue,
    row: IntentRow,
    order: VenueOrder,
    req: OrderRequest,
  ): Promise<void> {
    let result;
    try {
      result = await venue.place(order, { timeoutMs: this.#timeoutMs });
    } catch (err) {
      this.#placing.delete(order.venueClientId);
      this.#pools.orderRequests.release(req);
      this.#stats.timeouts++;
      const what = err instanceof VenueTimeoutError ? "timed out" : "lost its answer";
      this.#log.warning(
        "place {venueClientId} on {provider} {what}; querying before anything else: {error}",
        {
          venueClientId: order.venueClientId,
          provider: venue.provider,
          what,
          error: err,
          traceId: row.traceId,
        },
      );
      await this.#settleUnknown(venue, row.id);
      return;
    }
    this.#placing.delete(order.venueClientId);
    this.#pools.orderRequests.release(req);
    const current = this.#journal.byId(row.id);
    assertGateway(current !== undefined, "a placed intent stays journaled");
    if (result.kind === "accepted") {
      this.#stats.acked++;
      if (
        current.exchangeOrderId === "" && result.exchangeOrderId !== "" &&
        !isTerminalIntentState(current.state)
      ) {
        this.#journal.applyState(row.id, {
          exchangeOrderId: result.exchangeOrderId,
          updatedMs: this.#clock(),
        });
      }
      return;
    }
    if (intentStateRank(current.state) !== 0) {
      this.#log.warning(
        "place {venueClientId} rejected ({code} {text}) after it was reported {state}",
        {
          venueClientId: order.venueClientId,
          code: result.code,
          text: result.text,
          state: current.state,
        },
      );
      return;
    }
    this.#rejectIntent(current, result.code, result.text);
  }

  /** After a lost place answer: SENT, then a query by the venue client id before anything else. */
  async #settleUnknown(venue: OrderVenue, id: number): Promise<void> {
    let row = this.#journal.byId(id)!;
    if (row.state === "PENDING") {
      row = this.#journal.applyState(id, { state: "SENT", updatedMs: this.#clock() });
    }
    let status: VenueOrderStatus | null;
    try {
      status = await venue.query({ venueClientId: row.venueClientId, symbol: row.symbol }, {
        timeoutMs: this.#timeoutMs,
      });
    } catch (err) {
      this.#stats.venueRequestErrors++;
      this.#log.warning(
        "query {venueClientId} failed; it stays {state} until the next reconcile: {error}",
        {
          venueClientId: row.venueClientId,
          state: row.state,
          error: err,
        },
      );
      this.#retryReconcile(venue.provider);
      return;
    }
    row = this.#journal.byId(id)!;
    if (status === null) this.#closeNotFound(row);
    else this.#applyStatus(venue.provider, row, status);
  }

  async #cancel(venue: OrderVenue, row: IntentRow, req: OrderRequest): Promise<void> {
    try {
      const result = await venue.cancel({ venueClientId: row.venueClientId, symbol: row.symbol }, {
        timeoutMs: this.#timeoutMs,
      });
      if (result.kind === "rejected") {
        this.#stats.cancelsRejected++;
        this.#log.warning("cancel {venueClientId} refused by {provider}: {code} {text}", {
          venueClientId: row.venueClientId,
          provider: venue.provider,
          code: result.code,
          text: result.text,
        });
      }
    } catch (err) {
      // Not resent: the exchange may have cancelled it; the update or the next reconcile says.
      this.#stats.venueRequestErrors++;
      this.#log.warning("cancel {venueClientId} got no answer: {error}", {
        venueClientId: row.venueClientId,
        error: err,
      });
    } finally {
      this.#pools.orderRequests.release(req);
    }
  }

  // ---- updates, reconcile ------------------------------------------------------------------

  #onUpdate(provider: string, u: VenueExecUpdate): void {
    if (this.#closed) return;
    try {
      this.#applyUpdate(provider, u);
    } catch (err) {
      // A throw here would land in the venue's socket handler; log it instead.
      this.#log.error("update for {venueClientId} on {provider} failed: {error}", {
        venueClientId: u.venueClientId,
        provider,
        error: err,
      });
    }
  }

  #applyUpdate(provider: string, u: VenueExecUpdate): void {
    const row = this.#journal.byVenueClientId(u.venueClientId);
    if (row === undefined || row.provider !== provider) {
      this.#stats.unknownUpdates++;
      this.#log.debug("update for unknown order {venueClientId} on {provider} ignored", {
        venueClientId: u.venueClientId,
        provider,
      });
      return;
    }
    const lastQty = parseDecimal(u.lastQty);
    const hasFill = u.tradeId !== "" && lastQty !== null && lastQty.units > 0n;
    if (hasFill && this.#journal.fillSeen(provider, u.venueClientId, u.tradeId)) {
      this.#stats.fillsDeduplicated++;
      return;
    }
    const plan = planExecUpdate(row, u);
    this.#commit(provider, row, plan, hasFill ? u : null);
  }

  /** Adopts an order status from a query or listing: emits what the consumer has not seen. */
  #applyStatus(provider: string, row: IntentRow, status: VenueOrderStatus): void {
    const plan = planExecUpdate(row, updateOfStatus(status), { avgPrice: status.avgPrice });
    if (plan.reports.length > 0) this.#stats.reconciled++;
    this.#commit(provider, row, plan, null);
  }

  /** Journals a plan (with its fill, atomically) and then delivers its reports in order. */
  #commit(
    provider: string,
    row: IntentRow,
    plan: ExecUpdatePlan,
    fill: VenueExecUpdate | null,
  ): void {
    if (plan.ignored === "replay") this.#stats.fillsDeduplicated++;
    if (plan.ignored === "inconsistent") {
      this.#stats.inconsistentUpdates++;
      this.#log.warning(
        "FILLED without quantity growth for {venueClientId} ignored (journal cum {cumQty})",
        {
          venueClientId: row.venueClientId,
          cumQty: row.cumQty,
        },
      );
    }
    if (plan.change === null) return;
    const change = { ...plan.change, updatedMs: this.#clock() };
    // One transaction for the change and its reports: when `deliver` appends to an
    // execution-report log on the same database (the gateway's wiring), a crash leaves both
    // or neither, so a report is never lost behind a journal that already moved on.
    this.#journal.transaction(() => {
      if (fill !== null) {
        this.#journal.recordFill(provider, fill.tradeId, {
          venueClientId: fill.venueClientId,
          qty: fill.lastQty,
          price: fill.lastPrice,
          tsMs: fill.exchangeTsMs,
        });
      }
      const updated = this.#journal.applyState(row.id, change);
      for (const report of plan.reports) {
        if (report.state === "REJECTED") this.#stats.rejected++;
        this.#emit(updated, report);
      }
    });
  }

  /** One pass over the provider's open intents; false when some could not be compared. */
  async #reconcileOnce(provider: string): Promise<boolean> {
    const venue = this.#venues.get(provider);
    if (venue === undefined) {
      throw new Error(`expected a configured provider, found "${provider}"`);
    }
    const rows = this.#journal.open(provider).filter((r) => !this.#placing.has(r.venueClientId));
    if (rows.length === 0) return true;
    let open: VenueOrderStatus[];
    try {
      open = await venue.openOrders({ timeoutMs: this.#timeoutMs });
    } catch (err) {
      this.#stats.venueRequestErrors++;
      this.#log.warning("reconcile of {provider} postponed: open orders failed: {error}", {
        provider,
        error: err,
      });
      return false;
    }
    let complete = true;
    const openById = new Map(open.map((s) => [s.venueClientId, s]));
    for (const stale of rows) {
      if (this.#closed) return true;
      let status: VenueOrderStatus | null | undefined = openById.get(stale.venueClientId);
      if (status === undefined) {
        try {
          status = await venue.query({ venueClientId: stale.venueClientId, symbol: stale.symbol }, {
            timeoutMs: this.#timeoutMs,
          });
        } catch (err) {
          this.#stats.venueRequestErrors++;
          this.#log.warning("reconcile query {venueClientId} failed: {error}", {
            venueClientId: stale.venueClientId,
            error: err,
          });
          complete = false;
          continue;
        }
      }
      // Updates may have arrived while waiting: plan against the journal as it is now.
      const row = this.#journal.byId(stale.id)!;
      if (isTerminalIntentState(row.state) || this.#placing.has(row.venueClientId)) continue;
      if (status === null) this.#closeNotFound(row);
      else this.#applyStatus(provider, row, status);
    }
    return complete;
  }

  /** A reconcile of `provider` compared every intent: drop any pending retry and its backoff. */
  #reconcileSucceeded(provider: string): void {
    const retry = this.#reconcileRetry.get(provider);
    if (retry === undefined) return;
    if (retry.timerId !== null) clearTimeout(retry.timerId);
    this.#reconcileRetry.delete(provider);
  }

  /** Schedules another reconcile of `provider` (once; the delay doubles per failure). */
  #retryReconcile(provider: string): void {
    if (this.#closed) return;
    let retry = this.#reconcileRetry.get(provider);
    if (retry === undefined) {
      retry = { timerId: null, delayMs: this.#reconcileRetryDelayMs };
      this.#reconcileRetry.set(provider, retry);
    }
    if (retry.timerId !== null) return;
    const delayMs = retry.delayMs;
    retry.delayMs = Math.min(delayMs * 2, RECONCILE_RETRY_DELAY_MS_MAX);
    this.#log.info("reconcile of {provider} incomplete; retrying in {delayMs} ms", {
      provider,
      delayMs,
    });
    const pending = retry;
    pending.timerId = setTimeout(() => {
      pending.timerId = null;
      void this.reconcile(provider);
    }, delayMs);
  }

  /** The exchange does not know an intent: close it when it can never have been live. */
  #closeNotFound(row: IntentRow): void {
    if (row.state === "SENT") {
      this.#stats.reconciled++;
      this.#rejectIntent(
        row,
        REASON_TIMEOUT_NOT_FOUND,
        "the send got no answer and the exchange does not know the order; it was not resent",
      );
    } else if (row.state === "PENDING" && row.exchangeOrderId === "") {
      this.#stats.reconciled++;
      this.#rejectIntent(
        row,
        REASON_NOT_SENT_BEFORE_RESTART,
        "journaled before a restart and unknown to the exchange; it was not sent again",
      );
    } else {
      this.#log.warning("order {venueClientId} ({state}) not found on {provider}; left open", {
        venueClientId: row.venueClientId,
        state: row.state,
        provider: row.provider,
      });
    }
  }

  #rejectIntent(row: IntentRow, code: string, text: string): void {
    this.#journal.transaction(() => {
      const updated = this.#journal.applyState(row.id, {
        state: "REJECTED",
        reasonCode: code,
        reasonText: text,
        updatedMs: this.#clock(),
      });
      this.#stats.rejected++;
      this.#emit(updated, {
        state: "REJECTED",
        cumQty: updated.cumQty,
        cumQuote: updated.cumQuote,
        lastQty: "",
        lastPx: "",
        fee: "",
        feeAsset: "",
        exchangeTradeId: "",
        reasonCode: code,
        reasonText: text,
        exchangeTsMs: 0,
        synthesized: false,
      });
    });
  }

  /** Acquires a report, fills it from the intent and the plan, delivers it, releases it. */
  #emit(row: IntentRow, p: PlannedReport): void {
    let report = this.#pools.execReports.tryAcquire();
    const pooled = report !== null;
    if (report === null) {
      // Reports are never dropped: an exhausted pool costs one allocation, counted.
      this.#stats.reportPoolMisses++;
      report = new ExecReport();
    }
    try {
      report.seq = 0;
      report.consumerId = row.consumerId;
      report.provider = row.provider;
      report.symbol = row.symbol;
      report.clientOrderId = row.clientOrderId;
      report.exchangeOrderId = row.exchangeOrderId;
      report.side = row.side;
      report.orderType = row.orderType;
      report.state = p.state;
      report.price = row.price;
      report.qty = row.qty;
      report.cumQty = p.cumQty;
      report.lastQty = p.lastQty;
      report.lastPx = p.lastPx;
      report.cumQuote = p.cumQuote;
      report.fee = p.fee;
      report.feeAsset = p.feeAsset;
      report.exchangeTradeId = p.exchangeTradeId;
      report.reasonCode = p.reasonCode;
      report.reasonText = p.reasonText;
      report.exchangeTsMs = p.exchangeTsMs;
      report.recvTsMs = this.#clock();
      report.traceId = row.traceId;
      this.#deliver(report);
      this.#stats.reportsEmitted++;
    } catch (err) {
      this.#stats.deliverErrors++;
      this.#log.error("delivering {state} of {venueClientId} failed: {error}", {
        state: p.state,
        venueClientId: row.venueClientId,
        error: err,
      });
    } finally {
      if (pooled) this.#pools.execReports.release(report);
    }
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch((err) => {
      this.#log.error("order task failed: {error}", { error: err });
    }).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }
}

/** Invariant check: a failure is a bug in the gateway, never an operating condition. */
function assertGateway(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`order gateway invariant violated: ${what}`);
}
