/**
 * The OKX simulator's order side: the shared matching engine wrapped in OKX's private
 * protocol (protocol notes §6, §8 "Auth / trading").
 *
 * - `/ws/v5/private`: `login` (±30 s, HMAC, passphrase; 60004/60005/60006/60007/60009/60024),
 *   `subscribe` to `orders` (login first: 60011; `instType` required: 60013) with
 *   `channel-conn-count`, `op:"order"` and `op:"cancel-order"` with OKX's envelopes and
 *   sCodes, and `orders` pushes live → partially_filled → filled / canceled (cancelSource).
 * - Signed REST: `GET /api/v5/trade/order` and `GET /api/v5/trade/orders-pending`.
 * - Admin: `GET /_sim/orders/stats`, `POST /_sim/orders/fill`, `POST /_sim/orders/expire`.
 *
 * Codes chosen where the notes give none (all from OKX's error-code tables):
 * - filter breaks (tick, lot, minimum size) and malformed fields: sCode 51000 "Parameter {x}
 *   error" with the detail after a colon (OKX itself has finer codes such as 51020/51121);
 * - cancel of an unknown or finished order: sCode 51400 "Order cancellation failed as the order
 *   has been filled, canceled or does not exist";
 * - REST query of an unknown order: code 51603 "Order does not exist" (HTTP 200);
 * - REST auth: 50102–50113 with HTTP 401 (see okx_sim_auth.ts);
 * - missing REST parameters: 50014 "Parameter {x} can not be empty" (HTTP 400).
 *
 * Where it differs from the venue: spot `cash` mode only; market orders are sized in the base
 * currency only (`tgtCcy:"base_ccy"`; OKX's default for market buys is the quote currency, so
 * a market buy without it is refused with 51000); no batch/amend ops; no `expTime`; a failed
 * login leaves the socket open; the ack-related faults act on `op:"order"` only.
 *
 * @module
 */

import type { MarketGenerator } from "../../market/mod.ts";
import {
  MarketBookSource,
  type SimInstrument,
  type SimOrder,
  SimOrderEngine,
  type SimOrderEvent,
  type SimRejectReason,
} from "../../order_engine/mod.ts";
import { OkxOrderFaults } from "./okx_order_faults.ts";
import {
  engineOrderId,
  type OkxFill,
  type OkxOrderMeta,
  okxOrderRow,
  okxOrdId,
  okxState,
} from "./okx_order_wire.ts";
import { OkxPrivateConnection } from "./okx_private_connection.ts";
import { checkOkxLogin, checkOkxRestAuth, type OkxSimAccount } from "./okx_sim_auth.ts";
import { addDecimal, isPositiveDecimal, negateDecimal } from "./okx_sim_decimal.ts";

/** One instrument as the simulator publishes it (`/api/v5/public/instruments`). */
export interface OkxSimInstrumentInfo {
  /** `BTC-USDT`. */
  readonly instId: string;
  /** Integer code for trading ops. */
  readonly instIdCode: number;
  readonly baseCcy: string;
  readonly quoteCcy: string;
  readonly tickSz: string;
  readonly lotSz: string;
  readonly minSz: string;
}

/** Options of {@linkcode OkxOrderSide}. */
export interface OkxOrderSideOptions {
  /** The simulator's market generator (the engine takes liquidity from its books). */
  readonly market: MarketGenerator;
  /** Instruments exactly as the instruments endpoint serves them. */
  readonly instruments: readonly OkxSimInstrumentInfo[];
  /** Accounts that may log in. */
  readonly accounts: readonly OkxSimAccount[];
  /** Wall clock, ms since the epoch. */
  readonly clock: () => number;
  /** Starting balances of every account (default: 1 000 000 of each quote, 1 000 of each base). */
  readonly initialBalances?: Record<string, string>;
  /** Fee rate of every fill (default the engine's 0.001). */
  readonly feeRate?: string;
}

/** Counters of the admin `stats` endpoint (field names fixed by the orders plan). */
export interface OkxOrderStats {
  /** `op:"order"` orders received (well-formed enough to carry an order arg). */
  place_requests: number;
  accepted: number;
  rejected: number;
  /** Place requests per `clOrdId` (the kill test proves no order went out twice). */
  place_requests_by_client_id: Record<string, number>;
}

/** Request `id`: 1-32 alphanumerics. */
const ID_RE = /^[A-Za-z0-9]{1,32}$/;
/** `clOrdId`: 1-32 alphanumerics. */
const CL_ORD_ID_RE = /^[A-Za-z0-9]{1,32}$/;
/** A plain non-negative decimal. */
const DECIMAL_RE = /^\d+(\.\d+)?$/;
const INST_TYPES: ReadonlySet<string> = new Set([
  "SPOT",
  "MARGIN",
  "SWAP",
  "FUTURES",
  "OPTION",
  "EVENTS",
  "ANY",
]);
const ORD_TYPES: ReadonlySet<string> = new Set(["market", "limit", "post_only", "fok", "ioc"]);
/** OKX wrapper data kept per order (oldest evicted first). */
const ORDER_META_MAX = 100_000;
/** Page size bound of orders-pending. */
const PENDING_LIMIT_MAX = 100;

type Json = Record<string, unknown>;

/** A push waiting for its op's ack; the frame is built per subscriber (its arg differs). */
interface HeldPush {
  account: string;
  instId: string;
  make: (arg: Json) => string;
}

/** The order side; the simulator owns one (`sim.orders`). */
export class OkxOrderSide {
  /** The matching engine (tests may read balances). */
  readonly engine: SimOrderEngine;
  /** Fault knobs. */
  readonly faults: OkxOrderFaults = new OkxOrderFaults();
  readonly #accounts: readonly OkxSimAccount[];
  readonly #uids = new Map<string, string>();
  readonly #clock: () => number;
  readonly #byCode = new Map<number, OkxSimInstrumentInfo>();
  readonly #byInstId = new Map<string, OkxSimInstrumentInfo>();
  readonly #meta = new Map<number, OkxOrderMeta>();
  readonly #connections = new Map<number, OkxPrivateConnection>();
  readonly #unsubscribe: (() => void)[] = [];
  #nextConnectionId = 1;
  #anonymousClientIds = 0;
  /** Pushes produced while a trading op is being answered: sent around its ack. */
  #held: HeldPush[] | null = null;
  #zeroFillNext = false;
  readonly #stats: OkxOrderStats = {
    place_requests: 0,
    accepted: 0,
    rejected: 0,
    place_requests_by_client_id: {},
  };

  /** Builds the engine over the market's books. */
  constructor(options: OkxOrderSideOptions) {
    if (options.accounts.length === 0) {
      throw new RangeError("accounts: expected at least one account, found none");
    }
    this.#accounts = options.accounts;
    this.#clock = options.clock;
    options.accounts.forEach((a, i) => this.#uids.set(a.apiKey, a.uid ?? String(44_558_800 + i)));
    const instruments: SimInstrument[] = [];
    const balances: Record<string, string> = {};
    for (const info of options.instruments) {
      this.#byCode.set(info.instIdCode, info);
      this.#byInstId.set(info.instId, info);
      instruments.push({
        symbol: info.instId,
        base: info.baseCcy,
        quote: info.quoteCcy,
        tickSize: info.tickSz,
        stepSize: info.lotSz,
        minQty: info.minSz,
        // OKX spot has no minimum order value, only minSz.
        minNotional: "0",
      });
      balances[info.baseCcy] ??= "1000";
      balances[info.quoteCcy] = "1000000";
    }
    this.engine = new SimOrderEngine({
      instruments,
      book: new MarketBookSource(options.market),
      clock: options.clock,
      initialBalances: options.initialBalances ?? balances,
      feeRate: options.feeRate,
    });
    for (const account of options.accounts) {
      this.#unsubscribe.push(
        this.engine.subscribe(account.apiKey, (event) => this.#onEngineEvent(account, event)),
      );
    }
  }

  /** Open private sessions. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Takes over an upgraded `/ws/v5/private` socket. */
  accept(socket: WebSocket, dropTcp: () => void): OkxPrivateConnection {
    const connection = new OkxPrivateConnection(socket, {
      id: this.#nextConnectionId++,
      monotonic: () => performance.now(),
      hooks: {
        onText: (c, text) => this.#onText(c, text),
        dropTcp,
        onClosed: (c) => this.#connections.delete(c.id),
      },
    });
    this.#connections.set(connection.id, connection);
    return connection;
  }

  /** Applies the idle rule to every private session; returns how many were closed. */
  checkIdle(idleMs: number): number {
    let closed = 0;
    for (const c of this.#connections.values()) if (c.checkIdle(idleMs)) closed++;
    return closed;
  }

  /**
   * Disconnects every private session: abruptly (TCP cut) by default, or with a close frame
   * when `code` is given. Returns how many were hit.
   */
  disconnect(options: { code?: number; reason?: string } = {}): number {
    const hit = [...this.#connections.values()];
    for (const c of hit) {
      if (options.code === undefined) c.drop();
      else c.close(options.code, options.reason ?? "");
    }
    return hit.length;
  }

  /** A public trade: resting orders it crosses fill as maker. */
  onMarketTrade(instId: string, price: string, qty: string): void {
    this.engine.onMarketTrade(instId, price, qty);
  }

  /** Counters (a copy). */
  stats(): OkxOrderStats {
    return {
      ...this.#stats,
      place_requests_by_client_id: { ...this.#stats.place_requests_by_client_id },
    };
  }

  /**
   * Test knob: fills the open order with `clientId` (`clOrdId`) for `qty` (default: the rest)
   * at its own price or `price`. Returns the order after, or undefined when none is open.
   */
  fill(
    clientId: string,
    options: { qty?: string; price?: string; account?: string } = {},
  ): SimOrder | undefined {
    return this.engine.fillResting(
      options.account ?? this.#accounts[0].apiKey,
      { clientId },
      options.qty,
      options.price,
    );
  }

  /** Test knob: the system cancels the open order (pushed as canceled, cancelSource "0"). */
  expire(clientId: string, options: { account?: string } = {}): SimOrder | undefined {
    return this.engine.expire(options.account ?? this.#accounts[0].apiKey, { clientId });
  }

  /** Closes every private session with 1001. */
  closeAll(): void {
    for (const c of this.#connections.values()) c.close(1001, "simulator shutting down");
  }

  /** Cuts the sessions still open (after closeAll's bound). */
  dropAll(): void {
    for (const c of this.#connections.values()) c.drop();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe.length = 0;
  }

  // ---- HTTP -----------------------------------------------------------------------------

  /** True when `pathname` belongs to the order side. */
  servesPath(pathname: string): boolean {
    return pathname.startsWith("/api/v5/trade/") || pathname.startsWith("/_sim/orders/");
  }

  /** Answers a REST or admin request for a path {@linkcode servesPath} accepted. */
  async handleHttp(request: Request, url: URL): Promise<Response> {
    const body = await request.text();
    if (url.pathname.startsWith("/_sim/orders/")) return this.#admin(request.method, url, body);
    const auth = checkOkxRestAuth(
      {
        method: request.method,
        requestPath: url.pathname + url.search,
        body,
        headers: request.headers,
      },
      { accounts: this.#accounts, nowMs: this.#clock() },
    );
    if ("code" in auth) return okxJson(401, auth.code, auth.msg);
    const account = auth.account.apiKey;
    if (request.method !== "GET") return okxJson(405, "50000", "only GET is served");
    if (url.pathname === "/api/v5/trade/order") return this.#restOrder(account, url);
    if (url.pathname === "/api/v5/trade/orders-pending") return this.#restPending(account, url);
    return okxJson(404, "50000", `unknown endpoint ${url.pathname}`);
  }

  #restOrder(account: string, url: URL): Response {
    const instId = url.searchParams.get("instId") ?? "";
    const ordId = url.searchParams.get("ordId") ?? "";
    const clOrdId = url.searchParams.get("clOrdId") ?? "";
    if (instId === "") return okxJson(400, "50014", "Parameter instId can not be empty.");
    if (ordId === "" && clOrdId === "") {
      return okxJson(400, "50014", "Parameter ordId or clOrdId can not be empty.");
    }
    if (!this.#byInstId.has(instId)) {
      return okxJson(200, "51001", "Instrument ID does not exist.");
    }
    const order = this.#find(account, ordId, clOrdId);
    if (order === undefined || order.symbol !== instId) {
      return okxJson(200, "51603", "Order does not exist");
    }
    return okxJson(200, "0", "", [this.#restRow(order)]);
  }

  #restPending(account: string, url: URL): Response {
    const instType = url.searchParams.get("instType") ?? "";
    const instId = url.searchParams.get("instId") ?? "";
    const after = url.searchParams.get("after") ?? "";
    const limitText = url.searchParams.get("limit") ?? String(PENDING_LIMIT_MAX);
    const limit = Number(limitText);
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= PENDING_LIMIT_MAX)) {
      return okxJson(400, "51000", "Parameter limit error");
    }
    if (instType !== "" && instType !== "SPOT") return okxJson(200, "0", "", []);
    const afterId = after === "" ? Number.MAX_SAFE_INTEGER : engineOrderId(after) ?? 0;
    const rows = this.engine.openOrders(account, instId === "" ? undefined : instId)
      .filter((o) => o.orderId < afterId)
      .sort((a, b) => b.orderId - a.orderId) // newest first, as OKX lists them
      .slice(0, limit)
      .map((o) => this.#restRow(o));
    return okxJson(200, "0", "", rows);
  }

  #restRow(order: SimOrder): Record<string, string> {
    const meta = this.#metaOf(order);
    return okxOrderRow(meta, order, {
      state: okxState(order),
      fill: meta.lastFill,
      uTimeMs: order.updatedMs,
    });
  }

  #admin(method: string, url: URL, body: string): Response {
    if (url.pathname === "/_sim/orders/stats" && method === "GET") {
      return Response.json(this.stats());
    }
    if (method !== "POST") return Response.json({ error: "expected POST" }, { status: 405 });
    let input: { client_id?: unknown; qty?: unknown; price?: unknown; account?: unknown };
    try {
      input = JSON.parse(body === "" ? "{}" : body);
    } catch {
      return Response.json({ error: "expected a JSON body" }, { status: 400 });
    }
    if (typeof input.client_id !== "string" || input.client_id === "") {
      return Response.json({ error: "expected client_id" }, { status: 400 });
    }
    const account = typeof input.account === "string" ? input.account : undefined;
    let order: SimOrder | undefined;
    try {
      if (url.pathname === "/_sim/orders/fill") {
        order = this.fill(input.client_id, {
          qty: typeof input.qty === "string" ? input.qty : undefined,
          price: typeof input.price === "string" ? input.price : undefined,
          account,
        });
      } else if (url.pathname === "/_sim/orders/expire") {
        order = this.expire(input.client_id, { account });
      } else {
        return Response.json({ error: `unknown endpoint ${url.pathname}` }, { status: 404 });
      }
    } catch (err) {
      return Response.json({ error: (err as Error).message }, { status: 400 });
    }
    if (order === undefined) {
      return Response.json({ error: `no open order ${input.client_id}` }, { status: 404 });
    }
    return Response.json({ ok: true, order });
  }

  // ---- WebSocket ------------------------------------------------------------------------

  #onText(c: OkxPrivateConnection, text: string): void {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      return this.#error(c, undefined, "60012", `Invalid request: ${text}`);
    }
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      return this.#error(c, undefined, "60012", `Invalid request: ${text}`);
    }
    const { id, op, args } = request as { id?: unknown; op?: unknown; args?: unknown };
    if (id !== undefined && (typeof id !== "string" || !ID_RE.test(id))) {
      return this.#error(c, undefined, "60012", `Invalid request: ${text}`);
    }
    const requestId = id as string | undefined;
    switch (op) {
      case "login":
        return this.#login(c, requestId, args);
      case "subscribe":
      case "unsubscribe":
        return this.#subscribe(c, requestId, op, args, text);
      case "order":
      case "cancel-order":
        return this.#tradingOp(c, requestId, op, args);
      default:
        return this.#error(c, requestId, "60019", `Invalid op: op :${String(op)}`);
    }
  }

  #login(c: OkxPrivateConnection, id: string | undefined, args: unknown): void {
    const arg = Array.isArray(args) && args.length === 1 ? args[0] : null;
    const checked = checkOkxLogin(arg, { accounts: this.#accounts, nowMs: this.#clock() });
    if ("code" in checked) return this.#error(c, id, checked.code, checked.msg);
    c.account = checked.account;
    c.send(
      JSON.stringify({
        ...(id === undefined ? {} : { id }),
        event: "login",
        code: "0",
        msg: "",
        connId: c.connId,
      }),
    );
  }

  #subscribe(
    c: OkxPrivateConnection,
    id: string | undefined,
    op: "subscribe" | "unsubscribe",
    args: unknown,
    raw: string,
  ): void {
    if (!Array.isArray(args) || args.length === 0) {
      return this.#error(c, id, "60012", `Invalid request: ${raw}`);
    }
    if (c.account === null) return this.#error(c, id, "60011", "Please log in");
    const parsed: { instType: string; instId: string }[] = [];
    for (const arg of args) {
      const { channel, instType, instId } =
        (typeof arg === "object" && arg !== null ? arg : {}) as {
          channel?: unknown;
          instType?: unknown;
          instId?: unknown;
        };
      const instText = typeof instId === "string" ? instId : "";
      if (channel !== "orders") {
        return this.#error(
          c,
          id,
          "60018",
          `Wrong URL or channel:${String(channel)},instId:${instText || "null"} doesn't exist. ` +
            "Please use the correct URL, channel and parameters referring to API document.",
        );
      }
      if (typeof instType !== "string" || !INST_TYPES.has(instType)) {
        return this.#error(c, id, "60013", `Invalid args: instType`);
      }
      if (instText !== "" && !this.#byInstId.has(instText)) {
        return this.#error(
          c,
          id,
          "60018",
          `Wrong URL or channel:orders,instId:${instText} doesn't exist. ` +
            "Please use the correct URL, channel and parameters referring to API document.",
        );
      }
      parsed.push({ instType, instId: instText });
    }
    for (const sub of parsed) {
      const key = `${sub.instType}|${sub.instId}`;
      if (op === "subscribe") {
        c.subscriptions.set(key, sub);
        c.markSubscribed();
      } else c.subscriptions.delete(key);
      const arg: Json = { channel: "orders", instType: sub.instType };
      if (sub.instId !== "") arg.instId = sub.instId;
      c.send(
        JSON.stringify({ ...(id === undefined ? {} : { id }), event: op, arg, connId: c.connId }),
      );
    }
    if (op === "subscribe") {
      const account = c.account.apiKey;
      let count = 0;
      for (const other of this.#connections.values()) {
        if (other.account?.apiKey === account && other.subscriptions.size > 0) count++;
      }
      c.send(JSON.stringify({
        event: "channel-conn-count",
        channel: "orders",
        connCount: String(count),
        connId: c.connId,
      }));
    }
  }

  #tradingOp(
    c: OkxPrivateConnection,
    id: string | undefined,
    op: "order" | "cancel-order",
    args: unknown,
  ): void {
    const inTime = this.#microTime();
    if (id === undefined) {
      return this.#error(c, undefined, "60013", "Parameter id can not be empty");
    }
    const respond = (code: string, msg: string, data: Json[]) =>
      JSON.stringify({ id, op, code, msg, data, inTime, outTime: this.#microTime() });
    if (c.account === null) return c.send(respond("60011", "Please log in", []));
    if (
      !Array.isArray(args) || args.length !== 1 || typeof args[0] !== "object" || args[0] === null
    ) {
      return c.send(respond("60013", "Invalid args", []));
    }
    const arg = args[0] as Json;
    if (arg.instIdCode === undefined || arg.instIdCode === null || arg.instIdCode === "") {
      return c.send(respond("60013", "Parameter instIdCode can not be empty", []));
    }
    const code = typeof arg.instIdCode === "number" ? arg.instIdCode : Number(arg.instIdCode);
    const account = c.account;
    if (op === "order") this.#order(c, account, arg, code, respond);
    else this.#cancel(c, account, arg, code, respond);
  }

  #order(
    c: OkxPrivateConnection,
    account: OkxSimAccount,
    arg: Json,
    instIdCode: number,
    respond: (code: string, msg: string, data: Json[]) => string,
  ): void {
    const clOrdId = typeof arg.clOrdId === "string" ? arg.clOrdId : "";
    const ts = String(this.#clock());
    this.#stats.place_requests++;
    const counts = this.#stats.place_requests_by_client_id;
    counts[clOrdId] = (counts[clOrdId] ?? 0) + 1;
    const refuse = (sCode: string, sMsg: string) => {
      this.#stats.rejected++;
      c.send(respond("1", "", [{ ordId: "", clOrdId, tag: "", ts, sCode, sMsg }]));
    };
    const info = this.#byCode.get(instIdCode);
    if (info === undefined) {
      return refuse("51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist.");
    }
    if (arg.clOrdId !== undefined && !CL_ORD_ID_RE.test(clOrdId)) {
      return refuse("51000", "Parameter clOrdId error: expected 1-32 letters or digits");
    }
    if (arg.tdMode !== "cash") {
      return refuse("51000", "Parameter tdMode error: the simulator trades spot in cash mode");
    }
    const side = arg.side;
    if (side !== "buy" && side !== "sell") return refuse("51000", "Parameter side error");
    const ordType = typeof arg.ordType === "string" ? arg.ordType : "";
    if (!ORD_TYPES.has(ordType)) return refuse("51000", "Parameter ordType error");
    const sz = typeof arg.sz === "string" ? arg.sz : "";
    if (!DECIMAL_RE.test(sz) || !isPositiveDecimal(sz)) {
      return refuse("51000", "Parameter sz error: expected a positive decimal");
    }
    const isMarket = ordType === "market";
    const px = isMarket ? "" : typeof arg.px === "string" ? arg.px : "";
    if (!isMarket && (!DECIMAL_RE.test(px) || !isPositiveDecimal(px))) {
      return refuse("51000", "Parameter px error: expected a positive decimal");
    }
    const tgtCcy = typeof arg.tgtCcy === "string" ? arg.tgtCcy : "";
    if (isMarket && tgtCcy !== "base_ccy" && (side === "buy" || tgtCcy !== "")) {
      return refuse(
        "51000",
        "Parameter tgtCcy error: the simulator sizes market orders in base_ccy only",
      );
    }
    const clientId = clOrdId !== "" ? clOrdId : `~anon${++this.#anonymousClientIds}`;
    this.#zeroFillNext = isMarket && this.faults.take("market_zero_fill");
    this.#pendingMeta = { clOrdId, ordType, px, sz, tgtCcy };
    let held: HeldPush[] = [];
    this.#held = [];
    let result: ReturnType<SimOrderEngine["place"]>;
    try {
      result = this.engine.place({
        account: account.apiKey,
        clientId,
        symbol: info.instId,
        side,
        orderType: isMarket ? "market" : "limit",
        timeInForce: ordType === "ioc" || isMarket ? "IOC" : ordType === "fok" ? "FOK" : "GTC",
        postOnly: ordType === "post_only",
        price: px,
        qty: sz,
      });
    } finally {
      held = this.#held ?? [];
      this.#held = null;
      this.#pendingMeta = null;
      this.#zeroFillNext = false;
    }
    if (!result.ok) {
      const [sCode, sMsg] = rejectCode(
        result.reason,
        result.detail,
        side === "buy" ? info.quoteCcy : info.baseCcy,
      );
      return refuse(sCode, sMsg);
    }
    this.#stats.accepted++;
    const ack = respond("0", "", [{
      ordId: okxOrdId(result.order.orderId),
      clOrdId,
      tag: "",
      ts,
      sCode: "0",
      sMsg: "Order placed",
    }]);
    this.#sendAround(c, ack, held);
  }

  #cancel(
    c: OkxPrivateConnection,
    account: OkxSimAccount,
    arg: Json,
    instIdCode: number,
    respond: (code: string, msg: string, data: Json[]) => string,
  ): void {
    const ordId = typeof arg.ordId === "string" ? arg.ordId : "";
    const clOrdId = typeof arg.clOrdId === "string" ? arg.clOrdId : "";
    const ts = String(this.#clock());
    const refuse = (sCode: string, sMsg: string) =>
      c.send(respond("1", "", [{ ordId, clOrdId, ts, sCode, sMsg }]));
    const info = this.#byCode.get(instIdCode);
    if (info === undefined) {
      return refuse("51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist.");
    }
    if (ordId === "" && clOrdId === "") {
      return c.send(respond("60013", "Parameter ordId or clOrdId can not be empty", []));
    }
    const found = this.#find(account.apiKey, ordId, clOrdId);
    const open = found !== undefined && found.symbol === info.instId &&
      (found.state === "new" || found.state === "partially_filled");
    if (!open) {
      return refuse(
        "51400",
        "Order cancellation failed as the order has been filled, canceled or does not exist",
      );
    }
    this.#held = [];
    let held: HeldPush[] = [];
    let result: ReturnType<SimOrderEngine["cancel"]>;
    try {
      result = this.engine.cancel(account.apiKey, { orderId: found.orderId });
    } finally {
      held = this.#held ?? [];
      this.#held = null;
    }
    if (!result.ok) {
      return refuse(
        "51400",
        "Order cancellation failed as the order has been filled, canceled or does not exist",
      );
    }
    const ack = respond("0", "", [{
      ordId: okxOrdId(found.orderId),
      clOrdId: this.#metaOf(found).clOrdId,
      ts,
      sCode: "0",
      sMsg: "",
    }]);
    c.send(ack);
    for (const push of held) this.#broadcast(push);
  }

  /** Sends an order ack and the pushes it caused, in the order the faults ask for. */
  #sendAround(
    c: OkxPrivateConnection,
    ack: string,
    held: HeldPush[],
  ): void {
    if (this.faults.take("drop_ack")) {
      for (const push of held) this.#broadcast(push);
      return;
    }
    const pushFirst = this.faults.take("push_before_ack");
    if (!pushFirst) c.send(ack);
    for (const push of held) this.#broadcast(push);
    if (pushFirst) c.send(ack);
  }

  // ---- engine events → pushes -----------------------------------------------------------

  /** What only the order op knows, for the meta built when the engine's `new` event arrives. */
  #pendingMeta:
    | { clOrdId: string; ordType: string; px: string; sz: string; tgtCcy: string }
    | null = null;

  #metaOf(order: SimOrder): OkxOrderMeta {
    let meta = this.#meta.get(order.orderId);
    if (meta !== undefined) return meta;
    const base = this.#byInstId.get(order.symbol);
    const pending = this.#pendingMeta;
    meta = {
      ordId: okxOrdId(order.orderId),
      clOrdId: pending?.clOrdId ?? (order.clientId.startsWith("~") ? "" : order.clientId),
      instId: order.symbol,
      ordType: pending?.ordType ?? (order.orderType === "market" ? "market" : "limit"),
      px: pending?.px ?? order.price,
      sz: pending?.sz ?? order.qty,
      tgtCcy: pending?.tgtCcy ?? "",
      fee: "0",
      // OKX charges spot buys in the base currency and sells in the quote currency.
      feeCcy: order.side === "buy" ? base?.baseCcy ?? "" : base?.quoteCcy ?? "",
      lastFill: null,
      zeroFill: this.#zeroFillNext,
    };
    this.#meta.set(order.orderId, meta);
    if (this.#meta.size > ORDER_META_MAX) {
      const oldest = this.#meta.keys().next().value;
      if (oldest !== undefined) this.#meta.delete(oldest);
    }
    return meta;
  }

  #onEngineEvent(account: OkxSimAccount, event: SimOrderEvent): void {
    const order = event.order;
    const meta = this.#metaOf(order);
    const rows: Record<string, string>[] = [];
    if (event.kind === "new") {
      rows.push(okxOrderRow(meta, order, { state: "live", fill: null, uTimeMs: order.updatedMs }));
    } else if (event.kind === "trade") {
      const fillFee = negateDecimal(event.fee);
      meta.fee = addDecimal(meta.fee, fillFee);
      meta.feeCcy = event.feeAsset;
      const fill: OkxFill = {
        tradeId: String(event.tradeId),
        fillSz: event.qty,
        fillPx: event.price,
        fillFee,
        fillFeeCcy: event.feeAsset,
        execType: event.maker ? "M" : "T",
        fillTime: String(order.updatedMs),
      };
      meta.lastFill = fill;
      const zeroFill = meta.zeroFill && order.state === "filled";
      const state = zeroFill ? "partially_filled" : order.state;
      const row = okxOrderRow(meta, order, { state, fill, uTimeMs: order.updatedMs });
      rows.push(row);
      if (this.faults.take("duplicate_push")) {
        rows.push({ ...row, uTime: String(order.updatedMs + 1) });
      }
      if (zeroFill) {
        rows.push(
          okxOrderRow(meta, order, { state: "filled", fill: null, uTimeMs: order.updatedMs }),
        );
      }
    } else {
      rows.push(
        okxOrderRow(meta, order, { state: "canceled", fill: null, uTimeMs: order.updatedMs }),
      );
    }
    for (const row of rows) {
      const text = (arg: Json) => JSON.stringify({ arg, data: [row] });
      this.#queuePush(account.apiKey, order.symbol, text);
    }
  }

  #queuePush(account: string, instId: string, make: (arg: Json) => string): void {
    if (this.#held !== null) this.#held.push({ account, instId, make });
    else this.#broadcast({ account, instId, make });
  }

  #broadcast({ account, instId, make }: HeldPush): void {
    const uid = this.#uids.get(account) ?? "";
    for (const c of this.#connections.values()) {
      if (c.account?.apiKey !== account) continue;
      for (const sub of c.subscriptions.values()) {
        if (sub.instType !== "SPOT" && sub.instType !== "ANY") continue;
        if (sub.instId !== "" && sub.instId !== instId) continue;
        const arg: Json = { channel: "orders", instType: sub.instType };
        if (sub.instId !== "") arg.instId = sub.instId;
        arg.uid = uid;
        c.send(make(arg));
        break; // one push per connection even with overlapping subscriptions
      }
    }
  }

  #find(account: string, ordId: string, clOrdId: string): SimOrder | undefined {
    if (ordId !== "") {
      const orderId = engineOrderId(ordId);
      return orderId === undefined ? undefined : this.engine.get(account, { orderId });
    }
    return this.engine.get(account, { clientId: clOrdId });
  }

  #error(c: OkxPrivateConnection, id: string | undefined, code: string, msg: string): void {
    c.send(
      JSON.stringify({
        ...(id === undefined ? {} : { id }),
        event: "error",
        code,
        msg,
        connId: c.connId,
      }),
    );
  }

  #microTime(): string {
    return `${this.#clock()}000`;
  }
}

function rejectCode(reason: SimRejectReason, detail: string, lockAsset: string): [string, string] {
  switch (reason) {
    case "unknown_symbol":
      return ["51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist."];
    case "duplicate_client_id":
      return ["51016", "Duplicated clOrdId"];
    case "insufficient_balance":
      return ["51008", `Order failed. Insufficient ${lockAsset} balance in account`];
    case "filter_tick_size":
      return ["51000", `Parameter px error: ${detail.replace("price: ", "")}`];
    case "filter_step_size":
    case "filter_min_qty":
      return ["51000", `Parameter sz error: ${detail.replace("qty: ", "")}`];
    case "filter_min_notional":
    case "invalid_parameter":
      return ["51000", `Parameter sz error: ${detail}`];
  }
}

function okxJson(status: number, code: string, msg: string, data: unknown[] = []): Response {
  return new Response(JSON.stringify({ code, msg, data }), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}
