/**
 * The bench's remote consumer: one trader WebSocket to the gateway, subscribed to market data,
 * that submits orders at a fixed rate (open loop: each order goes out at its scheduled time,
 * whatever the answers do) and times, on this process's clock, every step of each order:
 *
 * - `ack`: `order_submit` sent → its command `ack` (the gateway journaled it);
 * - resting: a limit `awayBps` behind the best price → `exec_report` `ACK`; then an
 *   `order_cancel` → `CANCELLED` (so resting orders do not pile up in the simulators' books);
 * - marketable: an IOC limit through the opposite best price → `exec_report` `FILLED`.
 *
 * Orders cycle over providers, then flow (resting, marketable), then symbols, then sides, so
 * every combination gets the same share. Prices come from `GET /v1/books`, polled.
 *
 * @module
 */

import type { BookRow, GatewayProcess } from "./gateway_process.ts";
import { procCpuMs } from "./proc_cpu.ts";
import { ALL_PROVIDERS, LatencySet, type LatencySummary } from "./latency_set.ts";
import { type InstrumentPricer, simInstrumentPricers } from "./order_pricing.ts";

/** Options of {@linkcode OrderFlow.connect}. */
export interface OrderFlowOptions {
  gateway: GatewayProcess;
  traderId: string;
  traderToken: string;
  /** Providers orders go to, in turn. */
  providers: readonly string[];
  /** Symbols orders go to, in turn (must be simulator instruments). */
  orderSymbols: readonly string[];
  /** Market data the consumer is subscribed to: every provider × symbol × kind. */
  marketSymbols: readonly string[];
  marketKinds: readonly string[];
  /** How far behind the best price resting orders sit, basis points. */
  restingAwayBps: number;
  /** How far through the opposite best price marketable orders reach, basis points. */
  crossBps: number;
  /** Target value of each order in the quote asset. */
  notionalQuote: string;
  /** Period of the `/v1/books` poll, ms. */
  bookPollMs: number;
  /** CPU time of the simulator process so far, ms, when the simulators run apart. */
  simCpuMs?: () => Promise<number>;
}

/** Options of {@linkcode OrderFlow.run}. */
export interface RateRunOptions {
  /** Row label (`100/s`). */
  label: string;
  /** Prefix of this run's client order ids (unique per gateway). */
  idPrefix: string;
  /** Orders per second. */
  ratePerSecond: number;
  /** Orders sent before the window (not recorded), ms. */
  warmMs: number;
  /** The measured window, ms: orders scheduled in it are recorded. */
  measureMs: number;
  /** How long to wait for the last answers after the last order, ms. */
  drainMs: number;
}

/** Latency percentiles by provider and over all (`all`). */
export type ByProvider = Record<string, LatencySummary | null>;

/** What one fixed-rate run measured. */
export interface RateResult {
  label: string;
  ratePerSecond: number;
  warmS: number;
  measureS: number;
  /** Orders sent in the window, and per second. */
  sent: number;
  sentPerSecond: number;
  /** Submits acknowledged ok during the window, per second. */
  acceptedPerSecond: number;
  /**
   * Final reports (`FILLED`, `CANCELLED`, `REJECTED`, `EXPIRED`) received during the window, per
   * second: the round trips the system completed, whatever was offered (its capacity when
   * overloaded).
   */
  finalsPerSecond: number;
  /** Orders of the window whose every step was answered (final report, and cancel if any). */
  completed: number;
  /** Latest an order left after its scheduled time, ms (the sender's own lag). */
  scheduleSlipMaxMs: number;
  commandAck: ByProvider;
  restingAck: ByProvider;
  marketableFilled: ByProvider;
  cancelled: ByProvider;
  /** Refused submits by ack error code. */
  refused: Record<string, number>;
  /** The first refusal message of each code. */
  refusedSamples: Record<string, string>;
  /** Refused cancel attempts by ack error code (`busy` and `venue_unavailable` ones are retried). */
  cancelRefused: Record<string, number>;
  /** `REJECTED` reports by `reason_code reason_text`. */
  rejected: Record<string, number>;
  /** Marketable orders that ended without being filled in full (IOC remainder cancelled). */
  marketableNotFilled: number;
  /** Resting orders that traded (should be 0: they sit far from the market). */
  restingTraded: number;
  /** Orders of the run (warm-up included) with steps still unanswered after the drain. */
  unanswered: number;
  /** Market data messages received per second during the window. */
  marketPerSecond: number;
  /** Execution reports received during the run, and gaps in their `seq`. */
  execReports: number;
  execSeqGaps: number;
  /** Gateway CPU during the window, % of one core. */
  gatewayCpuPercent: number;
  /** Simulator process CPU during the window, % of one core; null when they are embedded. */
  simCpuPercent: number | null;
  /**
   * This process's (the trader's) CPU during the window, % of one core: near 100 % its own
   * lag is inside the latencies.
   */
  traderCpuPercent: number;
}

type Flow = "resting" | "marketable";

interface OrderRecord {
  provider: string;
  symbol: string;
  flow: Flow;
  measured: boolean;
  sentMs: number;
  /** When the latest cancel attempt left (the one whose `CANCELLED` is timed). */
  cancelSentMs: number;
  /** Cancel attempts refused so far. */
  cancelRefusals: number;
  /** Steps still expected: the final report, and the cancel's answer for resting orders. */
  open: boolean;
  acked: boolean;
  reportAcked: boolean;
}

interface Book {
  bid: string;
  ask: string;
}

/** Wire messages the flow reads (other fields ignored). */
interface WireMessage {
  type?: string;
  req_id?: string;
  ok?: boolean;
  error?: { code?: string; message?: string };
  seq?: number;
  client_order_id?: string;
  symbol?: string;
  state?: string;
  cum_qty?: string;
  reason_code?: string;
  reason_text?: string;
}

/** Delay before a cancel refused for a full request pool is sent again, ms. */
const CANCEL_RETRY_MS = 50;
/** Cancel attempts per order before it is given up (left resting). */
const CANCEL_ATTEMPTS_MAX = 100;

/** Period of the sender's timer, ms: each tick sends every order due by then. */
const SENDER_PERIOD_MS = 1;

/** The trader connection and its order generator. */
export class OrderFlow {
  readonly #opts: OrderFlowOptions;
  readonly #ws: WebSocket;
  readonly #pricers = simInstrumentPricers();
  readonly #books = new Map<string, Book>();
  readonly #orders = new Map<string, OrderRecord>();
  readonly #ackWaiters = new Map<string, (m: WireMessage) => void>();
  #bookTimer: ReturnType<typeof setInterval> | undefined;
  #run: RunState | null = null;
  #lastSeq = 0;
  #marketMessages = 0;
  #closed: Promise<void>;

  private constructor(opts: OrderFlowOptions, ws: WebSocket) {
    this.#opts = opts;
    this.#ws = ws;
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.onmessage = (e) => this.#onFrame(e.data as string);
  }

  /** Opens the trader connection, subscribes to market data and starts polling the books. */
  static async connect(opts: OrderFlowOptions): Promise<OrderFlow> {
    for (const s of opts.orderSymbols) {
      if (!simInstrumentPricers().has(s)) {
        throw new RangeError(`expected a simulator instrument, found "${s}"`);
      }
    }
    const wsUrl = `${opts.gateway.baseUrl.replace(/^http/, "ws")}/v1/stream?consumer=${
      encodeURIComponent(opts.traderId)
    }`;
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${opts.traderToken}` } });
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) =>
        reject(
          new Error(`expected the trader WebSocket to open, found ${(e as ErrorEvent).message}`),
        );
    });
    ws.onerror = () => {};
    const flow = new OrderFlow(opts, ws);
    let n = 0;
    const subscriptions: Promise<WireMessage>[] = [];
    for (const provider of opts.providers) {
      for (const symbol of opts.marketSymbols) {
        for (const kind of opts.marketKinds) {
          subscriptions.push(flow.#command({
            v: 1,
            type: "subscribe",
            req_id: `sub${n++}`,
            provider,
            symbol,
            kind,
          }));
        }
      }
    }
    for (const ack of await Promise.all(subscriptions)) {
      if (ack.ok !== true) {
        await flow.close();
        throw new Error(`expected subscribe acks ok, found ${JSON.stringify(ack)}`);
      }
    }
    await flow.#pollBooks();
    flow.#bookTimer = setInterval(() => void flow.#pollBooks(), opts.bookPollMs);
    return flow;
  }

  /** Market data messages received so far. */
  get marketMessages(): number {
    return this.#marketMessages;
  }

  /** Runs one fixed rate: warm-up, window, drain. */
  async run(opts: RateRunOptions): Promise<RateResult> {
    if (this.#run !== null) throw new Error("expected no run in progress, found one");
    const totalMs = opts.warmMs + opts.measureMs;
    const total = Math.round((opts.ratePerSecond * totalMs) / 1000);
    const startMs = performance.now();
    const state = new RunState(opts, startMs);
    this.#run = state;
    const gw = this.#opts.gateway;
    const lastSeqBefore = this.#lastSeq;
    let windowCpu0 = 0;
    let windowMarket0 = 0;
    let windowCpu1 = 0;
    let windowMarket1 = 0;
    let simCpu0 = 0;
    let simCpu1 = 0;
    let traderCpu0 = 0;
    let traderCpu1 = 0;
    const simCpuMs = this.#opts.simCpuMs;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsedMs = performance.now() - startMs;
        const due = Math.min(total, Math.floor((elapsedMs * opts.ratePerSecond) / 1000) + 1);
        while (state.next < due) this.#submit(state, startMs);
        if (state.next >= total) {
          clearInterval(timer);
          resolve();
        }
      }, SENDER_PERIOD_MS);
      // Window bounds for CPU and market rate (async reads; a few ms of skew are irrelevant).
      state.timers.add(setTimeout(async () => {
        windowMarket0 = this.#marketMessages;
        [windowCpu0, simCpu0, traderCpu0] = await Promise.all([
          gw.cpuMs(),
          simCpuMs?.() ?? 0,
          procCpuMs(Deno.pid),
        ]);
      }, opts.warmMs));
      state.timers.add(setTimeout(async () => {
        windowMarket1 = this.#marketMessages;
        [windowCpu1, simCpu1, traderCpu1] = await Promise.all([
          gw.cpuMs(),
          simCpuMs?.() ?? 0,
          procCpuMs(Deno.pid),
        ]);
      }, totalMs));
    });
    const drainEnd = performance.now() + opts.drainMs;
    while (state.open > 0 && performance.now() < drainEnd) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Let the window's closing sample land even when the sender finished early.
    while (windowCpu1 === 0 && performance.now() < startMs + totalMs + 1000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const t of state.timers) clearTimeout(t);
    this.#run = null;
    const measureS = opts.measureMs / 1000;
    const byProvider = (set: LatencySet): ByProvider => {
      const out: ByProvider = {};
      for (const p of [...this.#opts.providers, ALL_PROVIDERS]) out[p] = set.summary(p);
      return out;
    };
    const result: RateResult = {
      label: opts.label,
      ratePerSecond: opts.ratePerSecond,
      warmS: opts.warmMs / 1000,
      measureS,
      sent: state.measuredSent,
      sentPerSecond: state.measuredSent / measureS,
      acceptedPerSecond: state.acceptedInWindow / measureS,
      finalsPerSecond: state.finalsInWindow / measureS,
      completed: state.measuredCompleted,
      scheduleSlipMaxMs: state.slipMaxMs,
      commandAck: byProvider(state.commandAck),
      restingAck: byProvider(state.restingAck),
      marketableFilled: byProvider(state.marketableFilled),
      cancelled: byProvider(state.cancelled),
      refused: state.refused,
      refusedSamples: state.refusedSamples,
      cancelRefused: state.cancelRefused,
      rejected: state.rejected,
      marketableNotFilled: state.marketableNotFilled,
      restingTraded: state.restingTraded,
      unanswered: state.open,
      marketPerSecond: (windowMarket1 - windowMarket0) / measureS,
      execReports: this.#lastSeq - lastSeqBefore,
      execSeqGaps: state.seqGaps,
      gatewayCpuPercent: ((windowCpu1 - windowCpu0) / opts.measureMs) * 100,
      simCpuPercent: simCpuMs === undefined ? null : ((simCpu1 - simCpu0) / opts.measureMs) * 100,
      traderCpuPercent: ((traderCpu1 - traderCpu0) / opts.measureMs) * 100,
    };
    for (const set of [state.commandAck, state.restingAck, state.marketableFilled]) set.destroy();
    state.cancelled.destroy();
    // Forget this run's orders: late answers then count nowhere.
    this.#orders.clear();
    return result;
  }

  /** Closes the connection and stops the book poll. */
  async close(): Promise<void> {
    clearInterval(this.#bookTimer);
    this.#bookTimer = undefined;
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close(1000);
    await this.#closed;
  }

  #submit(state: RunState, startMs: number): void {
    const i = state.next++;
    const o = this.#opts;
    const providers = o.providers.length;
    const provider = o.providers[i % providers];
    const flow: Flow = Math.floor(i / providers) % 2 === 0 ? "resting" : "marketable";
    const symbol = o.orderSymbols[Math.floor(i / (2 * providers)) % o.orderSymbols.length];
    const side = Math.floor(i / (2 * providers * o.orderSymbols.length)) % 2 === 0 ? "buy" : "sell";
    const book = this.#books.get(`${provider}:${symbol}`);
    const pricer = this.#pricers.get(symbol) as InstrumentPricer;
    if (book === undefined) {
      throw new Error(`expected a book for ${provider}:${symbol}, found none`);
    }
    const priced = pricer.price({
      side,
      bestBid: book.bid,
      bestAsk: book.ask,
      mode: flow === "resting" ? "passive" : "marketable",
      awayBps: flow === "resting" ? o.restingAwayBps : o.crossBps,
      notionalQuote: o.notionalQuote,
    });
    const scheduledMs = startMs + (i * 1000) / state.opts.ratePerSecond;
    const measured = scheduledMs - startMs >= state.opts.warmMs;
    const id = `${state.opts.idPrefix}${i}`;
    const nowMs = performance.now();
    state.slipMaxMs = Math.max(state.slipMaxMs, nowMs - scheduledMs);
    this.#orders.set(id, {
      provider,
      symbol,
      flow,
      measured,
      sentMs: nowMs,
      cancelSentMs: 0,
      cancelRefusals: 0,
      open: true,
      acked: false,
      reportAcked: false,
    });
    state.open++;
    if (measured) state.measuredSent++;
    this.#ws.send(JSON.stringify({
      v: 1,
      type: "order_submit",
      req_id: `s:${id}`,
      client_order_id: id,
      provider,
      symbol,
      side,
      order_type: "limit",
      time_in_force: flow === "resting" ? "GTC" : "IOC",
      price: priced.price,
      qty: priced.qty,
    }));
  }

  #onFrame(text: string): void {
    const nowMs = performance.now();
    const parsed = JSON.parse(text) as WireMessage | WireMessage[];
    if (Array.isArray(parsed)) { for (const m of parsed) this.#onMessage(m, nowMs); }
    else this.#onMessage(parsed, nowMs);
  }

  #onMessage(m: WireMessage, nowMs: number): void {
    switch (m.type) {
      case "event":
        this.#marketMessages++;
        return;
      case "ack":
        this.#onAck(m, nowMs);
        return;
      case "exec_report":
        this.#onReport(m, nowMs);
        return;
    }
  }

  #onAck(m: WireMessage, nowMs: number): void {
    const reqId = m.req_id ?? "";
    const waiter = this.#ackWaiters.get(reqId);
    if (waiter !== undefined) {
      this.#ackWaiters.delete(reqId);
      waiter(m);
      return;
    }
    const state = this.#run;
    const id = reqId.slice(2);
    const order = this.#orders.get(id);
    if (state === null || order === undefined) return;
    const code = m.error?.code ?? "unknown";
    if (reqId.startsWith("s:")) {
      order.acked = true;
      if (m.ok === true) {
        if (order.measured) state.commandAck.record(order.provider, nowMs - order.sentMs);
        if (state.inWindow(nowMs)) state.acceptedInWindow++;
      } else {
        state.refused[code] = (state.refused[code] ?? 0) + 1;
        state.refusedSamples[code] ??= m.error?.message ?? "";
        state.close(order, nowMs, false);
      }
    } else if (reqId.startsWith("c:") && m.ok !== true) {
      state.cancelRefused[code] = (state.cancelRefused[code] ?? 0) + 1;
      order.cancelRefusals++;
      // A full request pool is transient: retry as a trader would, or the order keeps resting.
      if (
        (code === "busy" || code === "venue_unavailable") &&
        order.cancelRefusals < CANCEL_ATTEMPTS_MAX
      ) {
        const timer = setTimeout(() => {
          state.timers.delete(timer);
          this.#cancel(id, order);
        }, CANCEL_RETRY_MS);
        state.timers.add(timer);
      } else {
        state.close(order, nowMs, false);
      }
    }
  }

  #onReport(m: WireMessage, nowMs: number): void {
    const seq = m.seq ?? 0;
    const state = this.#run;
    if (state !== null && this.#lastSeq !== 0 && seq !== this.#lastSeq + 1) state.seqGaps++;
    this.#lastSeq = seq;
    const id = m.client_order_id ?? "";
    const order = this.#orders.get(id);
    if (state === null || order === undefined || !order.open) return;
    const latencyMs = nowMs - order.sentMs;
    switch (m.state) {
      case "ACK":
        if (order.reportAcked) return;
        order.reportAcked = true;
        if (order.flow === "resting") {
          if (order.measured) state.restingAck.record(order.provider, latencyMs);
          this.#cancel(id, order);
        }
        return;
      case "PARTIAL":
        if (order.flow === "resting") state.restingTraded++;
        return;
      case "FILLED":
        if (order.flow === "resting") state.restingTraded++;
        else if (order.measured) state.marketableFilled.record(order.provider, latencyMs);
        state.close(order, nowMs, true);
        return;
      case "CANCELLED":
        if (order.flow === "marketable") state.marketableNotFilled++;
        else if (order.measured && order.cancelSentMs > 0) {
          state.cancelled.record(order.provider, nowMs - order.cancelSentMs);
        }
        state.close(order, nowMs, true);
        return;
      case "REJECTED": {
        const why = `${m.reason_code ?? ""} ${m.reason_text ?? ""}`.trim();
        state.rejected[why] = (state.rejected[why] ?? 0) + 1;
        state.close(order, nowMs, true);
        return;
      }
      case "EXPIRED":
        state.rejected.EXPIRED = (state.rejected.EXPIRED ?? 0) + 1;
        state.close(order, nowMs, true);
        return;
    }
  }

  #cancel(id: string, order: OrderRecord): void {
    if (!order.open || this.#ws.readyState !== WebSocket.OPEN) return;
    order.cancelSentMs = performance.now();
    this.#ws.send(JSON.stringify({
      v: 1,
      type: "order_cancel",
      req_id: `c:${id}`,
      client_order_id: id,
      provider: order.provider,
      symbol: order.symbol,
    }));
  }

  #command(command: Record<string, unknown>): Promise<WireMessage> {
    const { promise, resolve } = Promise.withResolvers<WireMessage>();
    this.#ackWaiters.set(String(command.req_id), resolve);
    this.#ws.send(JSON.stringify(command));
    return promise;
  }

  async #pollBooks(): Promise<void> {
    try {
      const { books } = await this.#opts.gateway.getJson<{ books: BookRow[] }>("/v1/books");
      for (const b of books) {
        if (b.bestBid === null || b.bestAsk === null || b.state !== "LIVE") continue;
        this.#books.set(`${b.provider}:${b.symbol}`, { bid: b.bestBid, ask: b.bestAsk });
      }
    } catch {
      // A missed poll keeps the previous prices; the margins absorb a few hundred ms.
    }
  }
}

/** Counters and histograms of the run in progress. */
class RunState {
  readonly opts: RateRunOptions;
  /** The window, on `performance.now()`'s clock. */
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly commandAck = new LatencySet();
  readonly restingAck = new LatencySet();
  readonly marketableFilled = new LatencySet();
  readonly cancelled = new LatencySet();
  readonly refused: Record<string, number> = {};
  readonly refusedSamples: Record<string, string> = {};
  readonly cancelRefused: Record<string, number> = {};
  readonly rejected: Record<string, number> = {};
  readonly timers = new Set<ReturnType<typeof setTimeout>>();
  next = 0;
  open = 0;
  measuredSent = 0;
  measuredCompleted = 0;
  acceptedInWindow = 0;
  finalsInWindow = 0;
  slipMaxMs = 0;
  seqGaps = 0;
  marketableNotFilled = 0;
  restingTraded = 0;

  constructor(opts: RateRunOptions, startMs: number) {
    this.opts = opts;
    this.windowStartMs = startMs + opts.warmMs;
    this.windowEndMs = this.windowStartMs + opts.measureMs;
  }

  /** Whether `nowMs` falls in the measured window. */
  inWindow(nowMs: number): boolean {
    return nowMs >= this.windowStartMs && nowMs < this.windowEndMs;
  }

  /** The order got its final answer (`byReport`: an exec report, not a refusal). */
  close(order: OrderRecord, nowMs: number, byReport: boolean): void {
    if (!order.open) return;
    order.open = false;
    this.open--;
    if (order.measured) this.measuredCompleted++;
    if (byReport && this.inWindow(nowMs)) this.finalsInWindow++;
  }
}
