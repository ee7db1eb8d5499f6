/**
 * FakeOrderVenue: a scriptable, in-process {@linkcode OrderVenue} for order gateway tests.
 *
 * It counts every request (place calls per venue client id above all: the proof that nothing
 * was sent twice), keeps the orders "the exchange" knows so `query` and `openOrders` answer
 * from them, answers each place as scripted (accept, reject, timeout with or without the
 * exchange knowing the order, or hold until the test settles it), pushes updates on demand
 * (also duplicates and stale ones), and can go away and come back (`onResynced`).
 *
 * @module
 */

import {
  type InstrumentRules,
  type OrderVenue,
  type VenueCancelResult,
  type VenueExecUpdate,
  type VenueListener,
  type VenueOrder,
  type VenueOrderStatus,
  type VenuePlaceResult,
  type VenueRequestOptions,
  VenueTimeoutError,
  VenueUnavailableError,
} from "../../src/orders/order_venue.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import { createSchemaPools, type SchemaPools } from "../../src/schema/schema_pools.ts";
import type { ExecReportData } from "../../src/schema/exec_report.ts";
import type { OrderRequest, OrderRequestData } from "../../src/schema/order_request.ts";
import { IntentJournal } from "../../src/orders/intent_journal.ts";
import { OrderGateway } from "../../src/orders/order_gateway.ts";
import {
  addDecimal,
  formatDecimal,
  multiplyDecimal,
  parseDecimal,
} from "../../src/orders/exact_decimal.ts";

/** How the fake answers one place request. */
export type FakePlaceAnswer =
  /** Accepted; by default a `new` update is pushed first (as exchanges do), then the answer. */
  | { kind: "accept"; pushNew?: boolean }
  /** Refused with the exchange's code and text. */
  | { kind: "reject"; code: string; text: string }
  /** No answer: rejects with VenueTimeoutError; `known` says whether the exchange got it. */
  | { kind: "timeout"; known: boolean }
  /** Stays pending until {@linkcode FakeOrderVenue.settleHeld}. */
  | { kind: "hold" };

/** Rules the fake lists by default: BTC-USDT. */
export const FAKE_BTC_USDT_RULES: InstrumentRules = {
  symbol: "BTC-USDT",
  tickSize: "0.01",
  stepSize: "0.00001",
  minQty: "0.00001",
  minNotional: "5",
};

/** Options of {@linkcode FakeOrderVenue}. */
export interface FakeOrderVenueOptions {
  provider?: string;
  rules?: InstrumentRules[];
  /** The answer when the script queue is empty. Default accept. */
  defaultAnswer?: FakePlaceAnswer;
}

interface HeldPlace {
  order: VenueOrder;
  resolve: (r: VenuePlaceResult) => void;
  reject: (e: unknown) => void;
}

/** A scriptable order venue (see the module doc). */
export class FakeOrderVenue implements OrderVenue {
  /** Provider name. */
  readonly provider: string;
  /** Whether requests are served. */
  ready = false;
  /** Every place request, in order. */
  readonly placeCalls: VenueOrder[] = [];
  /** Every cancel request's venue client id. */
  readonly cancelCalls: string[] = [];
  /** Every query's venue client id. */
  readonly queryCalls: string[] = [];
  /** openOrders() calls. */
  openOrdersCalls = 0;
  /** start() calls. */
  startCalls = 0;
  /** Orders the exchange knows, by venue client id. */
  readonly orders = new Map<string, VenueOrderStatus>();
  /** Place answers to use, first in first out. */
  readonly answers: FakePlaceAnswer[] = [];
  /** When true, start() rejects. */
  startFails = false;
  /** When true, query and openOrders reject with VenueUnavailableError. */
  queriesFail = false;
  /** Answer to cancel requests (default accepted, and a canceled update is pushed). */
  cancelAnswer: VenueCancelResult = { kind: "accepted" };

  #listener: VenueListener | null = null;
  readonly #rules: Map<string, InstrumentRules>;
  readonly #defaultAnswer: FakePlaceAnswer;
  readonly #held: HeldPlace[] = [];
  #nextOrderId = 1000;
  #nextTradeId = 1;
  #closed = false;

  /** Builds a fake venue listing `rules` (default BTC-USDT). */
  constructor(opts?: FakeOrderVenueOptions) {
    this.provider = opts?.provider ?? "fakex";
    this.#rules = new Map((opts?.rules ?? [FAKE_BTC_USDT_RULES]).map((r) => [r.symbol, r]));
    this.#defaultAnswer = opts?.defaultAnswer ?? { kind: "accept" };
  }

  /** Place calls per venue client id. */
  placeCountByClientId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const o of this.placeCalls) {
      counts.set(o.venueClientId, (counts.get(o.venueClientId) ?? 0) + 1);
    }
    return counts;
  }

  setListener(listener: VenueListener): void {
    this.#listener = listener;
  }

  start(): Promise<void> {
    this.startCalls++;
    if (this.startFails) return Promise.reject(new VenueUnavailableError("fake: login refused"));
    this.ready = true;
    return Promise.resolve();
  }

  rules(symbol: string): InstrumentRules | undefined {
    return this.#rules.get(symbol);
  }

  place(order: VenueOrder, opts: VenueRequestOptions): Promise<VenuePlaceResult> {
    this.placeCalls.push({ ...order });
    if (!this.ready) return Promise.reject(new VenueUnavailableError("fake: not connected"));
    const answer = this.answers.shift() ?? this.#defaultAnswer;
    switch (answer.kind) {
      case "accept": {
        const status = this.#know(order);
        // Pushed before the answer, in a later microtask: exchanges often report `new` first.
        if (answer.pushNew ?? true) {
          queueMicrotask(() => this.push({ venueClientId: order.venueClientId, state: "new" }));
        }
        return Promise.resolve({ kind: "accepted", exchangeOrderId: status.exchangeOrderId });
      }
      case "reject":
        return Promise.resolve({ kind: "rejected", code: answer.code, text: answer.text });
      case "timeout":
        if (answer.known) this.#know(order);
        return Promise.reject(
          new VenueTimeoutError(`place ${order.symbol} ${order.venueClientId}`, opts.timeoutMs),
        );
      case "hold":
        return new Promise((resolve, reject) => this.#held.push({ order, resolve, reject }));
    }
  }

  /** Settles the oldest held place request with `answer` (accept/reject/timeout). */
  settleHeld(answer: FakePlaceAnswer): void {
    const held = this.#held.shift();
    if (held === undefined) throw new Error("fake venue: expected a held place, found none");
    switch (answer.kind) {
      case "accept": {
        const status = this.#know(held.order);
        if (answer.pushNew ?? true) {
          this.push({ venueClientId: held.order.venueClientId, state: "new" });
        }
        held.resolve({ kind: "accepted", exchangeOrderId: status.exchangeOrderId });
        return;
      }
      case "reject":
        held.resolve({ kind: "rejected", code: answer.code, text: answer.text });
        return;
      case "timeout":
        if (answer.known) this.#know(held.order);
        held.reject(new VenueTimeoutError(`place ${held.order.venueClientId}`, 1));
        return;
      case "hold":
        throw new Error("fake venue: expected a final answer, found hold");
    }
  }

  /** Place requests still held. */
  heldCount(): number {
    return this.#held.length;
  }

  cancel(
    ref: { venueClientId: string; symbol: string },
    _opts: VenueRequestOptions,
  ): Promise<VenueCancelResult> {
    this.cancelCalls.push(ref.venueClientId);
    if (!this.ready) return Promise.reject(new VenueUnavailableError("fake: not connected"));
    if (this.cancelAnswer.kind === "accepted") {
      const known = this.orders.get(ref.venueClientId);
      if (known !== undefined) this.push({ venueClientId: ref.venueClientId, state: "canceled" });
    }
    return Promise.resolve(this.cancelAnswer);
  }

  query(
    ref: { venueClientId: string; symbol: string },
    _opts: VenueRequestOptions,
  ): Promise<VenueOrderStatus | null> {
    this.queryCalls.push(ref.venueClientId);
    if (!this.ready || this.queriesFail) {
      return Promise.reject(new VenueUnavailableError("fake: not connected"));
    }
    const s = this.orders.get(ref.venueClientId);
    return Promise.resolve(s === undefined ? null : { ...s });
  }

  openOrders(_opts: VenueRequestOptions): Promise<VenueOrderStatus[]> {
    this.openOrdersCalls++;
    if (!this.ready || this.queriesFail) {
      return Promise.reject(new VenueUnavailableError("fake: not connected"));
    }
    const open = [...this.orders.values()].filter((s) =>
      s.state === "new" || s.state === "partially_filled"
    );
    return Promise.resolve(open.map((s) => ({ ...s })));
  }

  close(): Promise<void> {
    this.#closed = true;
    this.ready = false;
    for (const held of this.#held.splice(0)) {
      held.reject(new VenueUnavailableError("fake: closed"));
    }
    return Promise.resolve();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Pushes an update: fields not given come from the known order (or defaults). Also updates
   * the known order's state and cumulative amounts. `deliver: false` changes only the known
   * order (an update lost while disconnected).
   */
  push(
    u: Partial<VenueExecUpdate> & { venueClientId: string; state: VenueExecUpdate["state"] },
    opts?: { deliver?: boolean },
  ): VenueExecUpdate {
    const known = this.orders.get(u.venueClientId);
    const full: VenueExecUpdate = {
      venueClientId: u.venueClientId,
      exchangeOrderId: u.exchangeOrderId ?? known?.exchangeOrderId ?? "",
      symbol: u.symbol ?? known?.symbol ?? "BTC-USDT",
      state: u.state,
      cumQty: u.cumQty ?? known?.cumQty ?? "0",
      cumQuote: u.cumQuote ?? known?.cumQuote ?? "0",
      lastQty: u.lastQty ?? "0",
      lastPrice: u.lastPrice ?? "",
      fee: u.fee ?? "",
      feeAsset: u.feeAsset ?? "",
      tradeId: u.tradeId ?? "",
      reasonCode: u.reasonCode ?? "",
      reasonText: u.reasonText ?? "",
      exchangeTsMs: u.exchangeTsMs ?? 1_700_000_000_000,
    };
    if (known !== undefined) {
      known.state = full.state;
      known.cumQty = full.cumQty;
      known.cumQuote = full.cumQuote;
      known.reasonCode = full.reasonCode;
      known.reasonText = full.reasonText;
      known.updateTsMs = full.exchangeTsMs;
    }
    if (opts?.deliver ?? true) this.#listener?.onUpdate(full);
    return full;
  }

  /**
   * Fills `qty` at `price` on a known order: advances its cumulative amounts and pushes the
   * trade update (`deliver: false`: the exchange filled it but the update was lost). Returns the
   * update (re-push it to simulate a replay).
   */
  fill(
    venueClientId: string,
    qty: string,
    price: string,
    opts?: { deliver?: boolean; final?: boolean; tradeId?: string },
  ): VenueExecUpdate {
    const known = this.orders.get(venueClientId);
    if (known === undefined) throw new Error(`fake venue: expected a known order ${venueClientId}`);
    const cum = addDecimal(parseDecimal(known.cumQty)!, parseDecimal(qty)!);
    const quote = addDecimal(
      parseDecimal(known.cumQuote || "0")!,
      multiplyDecimal(parseDecimal(qty)!, parseDecimal(price)!),
    );
    return this.push({
      venueClientId,
      state: opts?.final ? "filled" : "partially_filled",
      cumQty: formatDecimal(cum),
      cumQuote: formatDecimal(quote),
      lastQty: qty,
      lastPrice: price,
      fee: "0.0001",
      feeAsset: "USDT",
      tradeId: opts?.tradeId ?? String(this.#nextTradeId++),
    }, { deliver: opts?.deliver });
  }

  /** The connection dropped: requests fail until {@linkcode FakeOrderVenue.comeBack}. */
  goAway(): void {
    this.ready = false;
  }

  /** The connection is back: ready again, and the listener hears `onResynced`. */
  comeBack(): void {
    this.ready = true;
    this.#listener?.onResynced();
  }

  #know(order: VenueOrder): VenueOrderStatus {
    const existing = this.orders.get(order.venueClientId);
    if (existing !== undefined) return existing;
    const status: VenueOrderStatus = {
      venueClientId: order.venueClientId,
      exchangeOrderId: String(this.#nextOrderId++),
      symbol: order.symbol,
      state: "new",
      cumQty: "0",
      cumQuote: "0",
      avgPrice: "",
      reasonCode: "",
      reasonText: "",
      updateTsMs: 1_700_000_000_000,
    };
    this.orders.set(order.venueClientId, status);
    return status;
  }
}

/** A gateway wired to fake venues, debug pools and a report collector (see {@linkcode createOrderHarness}). */
export interface OrderHarness {
  gateway: OrderGateway;
  journal: IntentJournal;
  venue: FakeOrderVenue;
  pools: SchemaPools;
  manager: PoolManager;
  /** Clones of every delivered report, in order. */
  reports: ExecReportData[];
  /** Acquires and fills a new-order request (BTC-USDT limit buy 0.001 @ 30000 GTC by default). */
  newOrder(fields?: Partial<OrderRequestData>): OrderRequest;
  /** Acquires and fills a cancel request. */
  cancelOrder(fields: Partial<OrderRequestData> & { clientOrderId: string }): OrderRequest;
  /** Lets pending promise chains and microtasks run. */
  settle(): Promise<void>;
  /** Objects in flight in the order request and exec report pools. */
  inFlight(): { orderRequests: number; execReports: number };
  /** Closes the gateway (and the journal unless `keepJournal`), then shuts the pools down. */
  close(opts?: { keepJournal?: boolean }): Promise<void>;
}

/** Options of {@linkcode createOrderHarness}. */
export interface OrderHarnessOptions {
  /** Journal database path (default `:memory:`); an existing journal to reuse instead. */
  journalPath?: string;
  journal?: IntentJournal;
  venue?: FakeOrderVenue;
  tradingDefault?: boolean;
  /** Consumers whose trading is switched on at creation. Default ["strat-a", "strat-b"]. */
  tradingOn?: string[];
  requestTimeoutMs?: number;
}

/** Builds a gateway over a fake venue with debug pools (double releases throw). Not started. */
export function createOrderHarness(opts?: OrderHarnessOptions): OrderHarness {
  const manager = new PoolManager({ debug: true });
  const pools = createSchemaPools(manager);
  const journal = opts?.journal ?? new IntentJournal({ path: opts?.journalPath });
  const venue = opts?.venue ?? new FakeOrderVenue();
  const reports: ExecReportData[] = [];
  let now = 1_700_000_000_000;
  const gateway = new OrderGateway({
    journal,
    venues: new Map([[venue.provider, venue]]),
    pools: { orderRequests: pools.orderRequest, execReports: pools.execReport },
    deliver: (r) => reports.push(r.clone()),
    clock: () => now++,
    tradingDefault: opts?.tradingDefault,
    requestTimeoutMs: opts?.requestTimeoutMs,
  });
  for (const c of opts?.tradingOn ?? ["strat-a", "strat-b"]) gateway.setTrading(c, true);
  function request(fields: Partial<OrderRequestData>, action: "new" | "cancel"): OrderRequest {
    const req = pools.orderRequest.tryAcquire();
    if (req === null) throw new Error("harness: expected a free order request, found none");
    req.copyFrom({
      consumerId: "strat-a",
      clientOrderId: "o1",
      action,
      provider: venue.provider,
      symbol: "BTC-USDT",
      side: action === "new" ? "buy" : "",
      orderType: action === "new" ? "limit" : "",
      timeInForce: action === "new" ? "GTC" : "",
      price: action === "new" ? "30000.00" : "",
      qty: action === "new" ? "0.00100" : "",
      createdTsMs: 1_700_000_000_000,
      traceId: "t1",
      ...fields,
    });
    return req;
  }
  return {
    gateway,
    journal,
    venue,
    pools,
    manager,
    reports,
    newOrder: (fields) => request(fields ?? {}, "new"),
    cancelOrder: (fields) => request(fields, "cancel"),
    async settle() {
      // Enough macrotask turns for a reconcile (open orders, then queries) on a loaded machine.
      for (let i = 0; i < 10; i++) await new Promise<void>((r) => setTimeout(r, 0));
    },
    inFlight: () => ({
      orderRequests: pools.orderRequest.inFlightCount(),
      execReports: pools.execReport.inFlightCount(),
    }),
    async close(closeOpts) {
      await gateway.close();
      if (!closeOpts?.keepJournal) journal.close();
      await manager.shutdown({ timeoutMs: 0 });
    },
  };
}
