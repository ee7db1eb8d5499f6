/**
 * Control messages on the consumer WebSocket (and the HTTP control API): commands a client sends
 * (subscribe, merged-subscribe, orders, trading switch) and the gateway's `ack`, `gap` and
 * `exec_resume` notices. Converts between camelCase data and snake_case wire objects.
 *
 * Commands are parsed strictly: an unknown field is refused (`unknown_field`), because a
 * misspelt optional field of an order (`timeInForce` for `time_in_force`) must not silently
 * fall back to a default. Messages the gateway sends (`ack`, `gap`, `exec_resume`) are read
 * leniently.
 *
 * @module
 */

import { type MarketEventKind, SCHEMA_VERSION } from "./event_kind.ts";
import {
  CLIENT_ORDER_ID_RULE,
  isClientOrderId,
  isConsumerId,
  type OrderRequestData,
  type TimeInForce,
} from "./order_request.ts";
import { MERGE_EVENTS_MAX, MERGE_PROVIDERS_MAX } from "./wire_merged.ts";
import { WireFormatError } from "./wire_error.ts";
import {
  BOOLEAN,
  describeFound,
  enumRule,
  type FieldRule,
  MARKET_KIND,
  POSITIVE_DECIMAL,
  PROVIDER,
  REQ_ID,
  SEQUENCE,
  SYMBOL,
  WireReader,
  withFallback,
} from "./wire_fields.ts";

/** Types of the commands a client sends. */
export const COMMAND_TYPES = [
  "subscribe",
  "unsubscribe",
  "merged_subscribe",
  "merged_unsubscribe",
  "order_submit",
  "order_cancel",
  "trading",
] as const;
/** Types of every control message: the commands plus the gateway's notices. */
export const CONTROL_TYPES = [...COMMAND_TYPES, "ack", "gap", "exec_resume"] as const;

/** Merge window length when a merged subscription names none, ms. */
export const MERGE_WINDOW_MS_DEFAULT = 10_000;
/** Longest merge window a client may ask for, ms (fragments are held in memory that long). */
export const MERGE_WINDOW_MS_MAX = 60_000;
/** Events that close a merge window when a merged subscription names no count. */
export const MERGE_EVENTS_DEFAULT = 1000;
/** Longest error message an ack carries, in characters. */
export const ACK_MESSAGE_LENGTH_MAX = 1024;

/** What to do with a merge window in which an expected provider sent nothing. */
export type PartialPolicy = "suppress";

/** Subscribe to, or unsubscribe from, one provider's stream (provider, symbol, kind). */
export interface SubscribeCommand {
  type: "subscribe" | "unsubscribe";
  reqId: string;
  provider: string;
  symbol: string;
  kind: MarketEventKind;
}

/** Subscribe to one market merged across several providers. */
export interface MergedSubscribeCommand {
  type: "merged_subscribe";
  reqId: string;
  symbol: string;
  kind: MarketEventKind;
  /** Expected providers, 1..16, distinct. */
  providers: string[];
  /** Window length, 1..60000 ms (default 10000). */
  windowMs: number;
  /** Events that close a window early, 1..10000 (default 1000). */
  maxEvents: number;
  partialPolicy: PartialPolicy;
}

/** End a merged subscription (same symbol, kind and providers as the subscribe). */
export interface MergedUnsubscribeCommand {
  type: "merged_unsubscribe";
  reqId: string;
  symbol: string;
  kind: MarketEventKind;
  providers: string[];
}

/** Submit a new order. */
export interface OrderSubmitCommand {
  type: "order_submit";
  reqId: string;
  clientOrderId: string;
  provider: string;
  symbol: string;
  side: "buy" | "sell";
  orderType: "limit" | "market";
  /** GTC, IOC or FOK for limit orders (default GTC); "" for market orders. */
  timeInForce: TimeInForce;
  /** Limit price; "" for market orders. */
  price: string;
  qty: string;
}

/** Cancel an order by its client order id. */
export interface OrderCancelCommand {
  type: "order_cancel";
  reqId: string;
  clientOrderId: string;
  provider: string;
  symbol: string;
}

/** Enable or disable trading for one consumer. */
export interface TradingCommand {
  type: "trading";
  reqId: string;
  consumerId: string;
  enabled: boolean;
}

/** Why a command failed. */
export interface AckError {
  /** Machine-readable, `snake_case` (`invalid_field`, `trading_disabled`). */
  code: string;
  /** Human-readable: what was expected and what was found. */
  message: string;
}

/** The gateway's answer to one command. */
export interface AckMessage {
  type: "ack";
  /** The command's `req_id`; "" when the command was unreadable before its id. */
  reqId: string;
  ok: boolean;
  /** Present exactly when `ok` is false. */
  error?: AckError;
  /** Routing-table version after a (un)subscribe was applied. */
  routingVersion?: number;
}

/** The gateway tells a client it will not receive a range of a stream's events. */
export interface GapMessage {
  type: "gap";
  provider: string;
  symbol: string;
  kind: MarketEventKind;
  /** First provider sequence not delivered. */
  fromSeq: number;
  /** Last provider sequence not delivered (≥ fromSeq). */
  toSeq: number;
  /** Events dropped or known missing in the range (0 when unknown). */
  count: number;
}

/**
 * The gateway's first message on a connection opened with `?exec_seq=<n>`: where delivery of
 * the consumer's execution reports resumes. Reports `lastSeenSeq + 1 .. nextSeq - 1` (there are
 * `unavailable` of them, 0 in the normal case) can no longer be replayed: they were
 * acknowledged long ago and pruned from the gateway's replay window.
 */
export interface ExecResumeMessage {
  type: "exec_resume";
  /** The client's last seen exec report sequence (the `exec_seq` it sent). */
  lastSeenSeq: number;
  /** The first exec report sequence delivered next (`lastSeenSeq + 1 + unavailable`). */
  nextSeq: number;
  /** The last exec report sequence assigned so far (>= lastSeenSeq). */
  headSeq: number;
  /** Reports after `lastSeenSeq` that can no longer be delivered. */
  unavailable: number;
}

/** A command a client sends. */
export type ControlCommand =
  | SubscribeCommand
  | MergedSubscribeCommand
  | MergedUnsubscribeCommand
  | OrderSubmitCommand
  | OrderCancelCommand
  | TradingCommand;

/** Any control message, either direction. */
export type ControlMessage = ControlCommand | AckMessage | GapMessage | ExecResumeMessage;

/** `subscribe` / `unsubscribe` on the wire. */
export interface WireSubscribe {
  v: number;
  type: "subscribe" | "unsubscribe";
  req_id: string;
  provider: string;
  symbol: string;
  kind: MarketEventKind;
}

/** `merged_subscribe` on the wire. */
export interface WireMergedSubscribe {
  v: number;
  type: "merged_subscribe";
  req_id: string;
  symbol: string;
  kind: MarketEventKind;
  providers: string[];
  window_ms: number;
  max_events: number;
  partial_policy: PartialPolicy;
}

/** `merged_unsubscribe` on the wire. */
export interface WireMergedUnsubscribe {
  v: number;
  type: "merged_unsubscribe";
  req_id: string;
  symbol: string;
  kind: MarketEventKind;
  providers: string[];
}

/** `order_submit` on the wire (`time_in_force` and `price` left off for market orders). */
export interface WireOrderSubmit {
  v: number;
  type: "order_submit";
  req_id: string;
  client_order_id: string;
  provider: string;
  symbol: string;
  side: "buy" | "sell";
  order_type: "limit" | "market";
  time_in_force?: "GTC" | "IOC" | "FOK";
  price?: string;
  qty: string;
}

/** `order_cancel` on the wire. */
export interface WireOrderCancel {
  v: number;
  type: "order_cancel";
  req_id: string;
  client_order_id: string;
  provider: string;
  symbol: string;
}

/** `trading` on the wire. */
export interface WireTrading {
  v: number;
  type: "trading";
  req_id: string;
  consumer_id: string;
  enabled: boolean;
}

/** `ack` on the wire. */
export interface WireAck {
  v: number;
  type: "ack";
  req_id: string;
  ok: boolean;
  error?: AckError;
  routing_version?: number;
}

/** `gap` on the wire. */
export interface WireGap {
  v: number;
  type: "gap";
  provider: string;
  symbol: string;
  kind: MarketEventKind;
  from_seq: number;
  to_seq: number;
  count: number;
}

/** `exec_resume` on the wire. */
export interface WireExecResume {
  v: number;
  type: "exec_resume";
  last_seen_seq: number;
  next_seq: number;
  head_seq: number;
  unavailable: number;
}

/** Any control message on the wire. */
export type WireControl =
  | WireSubscribe
  | WireMergedSubscribe
  | WireMergedUnsubscribe
  | WireOrderSubmit
  | WireOrderCancel
  | WireTrading
  | WireAck
  | WireGap
  | WireExecResume;

/** Options of {@linkcode orderRequestFromCommand}. */
export interface OrderRequestFromCommandOptions {
  /** The authenticated consumer that sent the command. */
  consumerId: string;
  /** When the gateway accepted the command, ms since epoch. */
  createdTsMs: number;
  /** Ops-only trace id; "" when none. */
  traceId?: string;
  /** Write into this object (e.g. a pooled `OrderRequest`) instead of a new plain object. */
  into?: OrderRequestData;
}

const ERROR_CODE_RE = /^[a-z][a-z0-9_]{0,63}$/;
const CLIENT_ORDER_ID: FieldRule<string> = {
  expected: CLIENT_ORDER_ID_RULE,
  test: isClientOrderId,
};
const CONSUMER_ID: FieldRule<string> = {
  expected: "1..64 of A-Z a-z 0-9 . _ : -",
  test: isConsumerId,
};
const ACK_REQ_ID: FieldRule<string> = {
  expected: '"" or 1..64 printable ASCII characters',
  test: (v): v is string => v === "" || REQ_ID.test(v),
};
const SIDE = enumRule(["buy", "sell"] as const);
const ORDER_TYPE = enumRule(["limit", "market"] as const);
const LIMIT_TIME_IN_FORCE = withFallback(enumRule(["GTC", "IOC", "FOK"] as const), "GTC");
const EMPTY: FieldRule<""> = {
  expected: 'absent or "" for a market order',
  test: (v): v is "" => v === "",
};
const WINDOW_MS: FieldRule<number> = withFallback({
  expected: `an integer from 1 to ${MERGE_WINDOW_MS_MAX} (ms)`,
  test: (v): v is number =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MERGE_WINDOW_MS_MAX,
}, MERGE_WINDOW_MS_DEFAULT);
const MAX_EVENTS: FieldRule<number> = withFallback({
  expected: `an integer from 1 to ${MERGE_EVENTS_MAX}`,
  test: (v): v is number =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MERGE_EVENTS_MAX,
}, MERGE_EVENTS_DEFAULT);
const PARTIAL_POLICY = withFallback(enumRule(["suppress"] as const), "suppress");
const PROVIDERS_BOUNDS = { itemsMin: 1, itemsMax: MERGE_PROVIDERS_MAX };

/** The wire object of a control message (the message is assumed valid). */
export function controlToWire(msg: ControlMessage): WireControl {
  const v = SCHEMA_VERSION;
  switch (msg.type) {
    case "subscribe":
    case "unsubscribe":
      return {
        v,
        type: msg.type,
        req_id: msg.reqId,
        provider: msg.provider,
        symbol: msg.symbol,
        kind: msg.kind,
      };
    case "merged_subscribe":
      return {
        v,
        type: msg.type,
        req_id: msg.reqId,
        symbol: msg.symbol,
        kind: msg.kind,
        providers: msg.providers.slice(),
        window_ms: msg.windowMs,
        max_events: msg.maxEvents,
        partial_policy: msg.partialPolicy,
      };
    case "merged_unsubscribe":
      return {
        v,
        type: msg.type,
        req_id: msg.reqId,
        symbol: msg.symbol,
        kind: msg.kind,
        providers: msg.providers.slice(),
      };
    case "order_submit":
      return orderSubmitToWire(msg);
    case "order_cancel":
      return {
        v,
        type: msg.type,
        req_id: msg.reqId,
        client_order_id: msg.clientOrderId,
        provider: msg.provider,
        symbol: msg.symbol,
      };
    case "trading":
      return {
        v,
        type: msg.type,
        req_id: msg.reqId,
        consumer_id: msg.consumerId,
        enabled: msg.enabled,
      };
    case "ack":
      return ackToWire(msg);
    case "gap":
      return {
        v,
        type: msg.type,
        provider: msg.provider,
        symbol: msg.symbol,
        kind: msg.kind,
        from_seq: msg.fromSeq,
        to_seq: msg.toSeq,
        count: msg.count,
      };
    case "exec_resume":
      return {
        v,
        type: msg.type,
        last_seen_seq: msg.lastSeenSeq,
        next_seq: msg.nextSeq,
        head_seq: msg.headSeq,
        unavailable: msg.unavailable,
      };
  }
}

/**
 * Reads and validates a command sent by a client; throws a `WireFormatError` (code, field,
 * and a message saying what was expected and found). `ack`, `gap` and `exec_resume` are refused
 * here: clients do not send them.
 */
export function commandFromWire(value: unknown): ControlCommand {
  const msg = readControl(value, COMMAND_TYPES);
  return msg as ControlCommand;
}

/** Reads and validates any control message, either direction (for clients and tests). */
export function controlFromWire(value: unknown): ControlMessage {
  return readControl(value, CONTROL_TYPES);
}

/**
 * The `req_id` of a message if it has a valid one, else "": lets the server address the error
 * ack of a command it could not parse.
 */
export function requestIdOf(value: unknown): string {
  if (typeof value !== "object" || value === null) return "";
  const reqId = (value as Record<string, unknown>).req_id;
  return REQ_ID.test(reqId) ? reqId : "";
}

/** The error ack for a command that failed with `error`. */
export function errorAck(reqId: string, error: WireFormatError | AckError): AckMessage {
  return { type: "ack", reqId, ok: false, error: { code: error.code, message: error.message } };
}

/**
 * The order request a submit or cancel command asks for, stamped with the sending consumer,
 * the acceptance time and a trace id. Writes into `options.into` when given (a pooled request).
 */
export function orderRequestFromCommand(
  cmd: OrderSubmitCommand | OrderCancelCommand,
  options: OrderRequestFromCommandOptions,
): OrderRequestData {
  const o: OrderRequestData = options.into ?? {
    consumerId: "",
    clientOrderId: "",
    action: "",
    provider: "",
    symbol: "",
    side: "",
    orderType: "",
    timeInForce: "",
    price: "",
    qty: "",
    createdTsMs: 0,
    traceId: "",
  };
  o.consumerId = options.consumerId;
  o.clientOrderId = cmd.clientOrderId;
  o.provider = cmd.provider;
  o.symbol = cmd.symbol;
  o.createdTsMs = options.createdTsMs;
  o.traceId = options.traceId ?? "";
  if (cmd.type === "order_submit") {
    o.action = "new";
    o.side = cmd.side;
    o.orderType = cmd.orderType;
    o.timeInForce = cmd.timeInForce;
    o.price = cmd.price;
    o.qty = cmd.qty;
  } else {
    o.action = "cancel";
    o.side = "";
    o.orderType = "";
    o.timeInForce = "";
    o.price = "";
    o.qty = "";
  }
  return o;
}

function readControl(value: unknown, allowed: readonly string[]): ControlMessage {
  const type = typeof value === "object" && value !== null
    ? (value as Record<string, unknown>).type
    : undefined;
  const context = typeof type === "string" && allowed.includes(type) ? type : "control";
  const r = new WireReader(value, { context });
  r.version();
  if (context === "control") {
    r.fail(
      "unknown_type",
      "type",
      `expected type one of ${allowed.join(", ")}, found ${describeFound(type)}`,
    );
  }
  switch (type as ControlMessage["type"]) {
    case "subscribe":
    case "unsubscribe":
      r.rejectUnknown(["v", "type", "req_id", "provider", "symbol", "kind"]);
      return {
        type: type as "subscribe" | "unsubscribe",
        reqId: r.read("req_id", REQ_ID),
        provider: r.read("provider", PROVIDER),
        symbol: r.read("symbol", SYMBOL),
        kind: r.read("kind", MARKET_KIND),
      };
    case "merged_subscribe":
      return readMergedSubscribe(r);
    case "merged_unsubscribe":
      r.rejectUnknown(["v", "type", "req_id", "symbol", "kind", "providers"]);
      return {
        type: "merged_unsubscribe",
        reqId: r.read("req_id", REQ_ID),
        symbol: r.read("symbol", SYMBOL),
        kind: r.read("kind", MARKET_KIND),
        providers: readProviders(r),
      };
    case "order_submit":
      return readOrderSubmit(r);
    case "order_cancel":
      r.rejectUnknown(["v", "type", "req_id", "client_order_id", "provider", "symbol"]);
      return {
        type: "order_cancel",
        reqId: r.read("req_id", REQ_ID),
        clientOrderId: r.read("client_order_id", CLIENT_ORDER_ID),
        provider: r.read("provider", PROVIDER),
        symbol: r.read("symbol", SYMBOL),
      };
    case "trading":
      r.rejectUnknown(["v", "type", "req_id", "consumer_id", "enabled"]);
      return {
        type: "trading",
        reqId: r.read("req_id", REQ_ID),
        consumerId: r.read("consumer_id", CONSUMER_ID),
        enabled: r.read("enabled", BOOLEAN),
      };
    case "ack":
      return readAck(r);
    case "gap":
      return readGap(r);
    case "exec_resume":
      return readExecResume(r);
  }
}

function readMergedSubscribe(r: WireReader): MergedSubscribeCommand {
  r.rejectUnknown([
    "v",
    "type",
    "req_id",
    "symbol",
    "kind",
    "providers",
    "window_ms",
    "max_events",
    "partial_policy",
  ]);
  return {
    type: "merged_subscribe",
    reqId: r.read("req_id", REQ_ID),
    symbol: r.read("symbol", SYMBOL),
    kind: r.read("kind", MARKET_KIND),
    providers: readProviders(r),
    windowMs: r.read("window_ms", WINDOW_MS),
    maxEvents: r.read("max_events", MAX_EVENTS),
    partialPolicy: r.read("partial_policy", PARTIAL_POLICY),
  };
}

function readProviders(r: WireReader): string[] {
  const providers = r.readList("providers", PROVIDER, PROVIDERS_BOUNDS);
  for (let i = 0; i < providers.length; i++) {
    if (providers.indexOf(providers[i]) !== i) {
      r.failExpected(`providers[${i}]`, "a provider not named before", providers[i]);
    }
  }
  return providers;
}

function readOrderSubmit(r: WireReader): OrderSubmitCommand {
  r.rejectUnknown([
    "v",
    "type",
    "req_id",
    "client_order_id",
    "provider",
    "symbol",
    "side",
    "order_type",
    "time_in_force",
    "price",
    "qty",
  ]);
  const reqId = r.read("req_id", REQ_ID);
  const clientOrderId = r.read("client_order_id", CLIENT_ORDER_ID);
  const provider = r.read("provider", PROVIDER);
  const symbol = r.read("symbol", SYMBOL);
  const side = r.read("side", SIDE);
  const orderType = r.read("order_type", ORDER_TYPE);
  let timeInForce: TimeInForce = "";
  let price = "";
  if (orderType === "limit") {
    timeInForce = r.read("time_in_force", LIMIT_TIME_IN_FORCE);
    price = r.read("price", POSITIVE_DECIMAL);
  } else {
    // A market order with a price or a time in force is a client mistake, not something to drop.
    if (r.has("time_in_force")) r.read("time_in_force", EMPTY);
    if (r.has("price")) r.read("price", EMPTY);
  }
  const qty = r.read("qty", POSITIVE_DECIMAL);
  return {
    type: "order_submit",
    reqId,
    clientOrderId,
    provider,
    symbol,
    side,
    orderType,
    timeInForce,
    price,
    qty,
  };
}

function readAck(r: WireReader): AckMessage {
  const ack: AckMessage = {
    type: "ack",
    reqId: r.read("req_id", ACK_REQ_ID),
    ok: r.read("ok", BOOLEAN),
  };
  if (r.has("error")) {
    const e = new WireReader(r.raw("error"), { context: "ack", path: "error" });
    ack.error = {
      code: e.read("code", {
        expected: "a snake_case code",
        test: (v): v is string => typeof v === "string" && ERROR_CODE_RE.test(v),
      }),
      message: e.read("message", {
        expected: `a string of 1..${ACK_MESSAGE_LENGTH_MAX} characters`,
        test: (v): v is string =>
          typeof v === "string" && v.length > 0 && v.length <= ACK_MESSAGE_LENGTH_MAX,
      }),
    };
  }
  if (ack.ok && ack.error !== undefined) {
    r.fail("invalid_field", "error", `expected no field "error" when ok is true, found one`);
  }
  if (!ack.ok && ack.error === undefined) {
    r.fail("missing_field", "error", `expected field "error" when ok is false, found none`);
  }
  if (r.has("routing_version")) ack.routingVersion = r.read("routing_version", SEQUENCE);
  return ack;
}

function readGap(r: WireReader): GapMessage {
  const gap: GapMessage = {
    type: "gap",
    provider: r.read("provider", PROVIDER),
    symbol: r.read("symbol", SYMBOL),
    kind: r.read("kind", MARKET_KIND),
    fromSeq: r.read("from_seq", SEQUENCE),
    toSeq: r.read("to_seq", SEQUENCE),
    count: r.read("count", SEQUENCE),
  };
  if (gap.toSeq < gap.fromSeq) {
    r.failExpected("to_seq", `at least from_seq (${gap.fromSeq})`, gap.toSeq);
  }
  return gap;
}

function readExecResume(r: WireReader): ExecResumeMessage {
  const msg: ExecResumeMessage = {
    type: "exec_resume",
    lastSeenSeq: r.read("last_seen_seq", SEQUENCE),
    nextSeq: r.read("next_seq", SEQUENCE),
    headSeq: r.read("head_seq", SEQUENCE),
    unavailable: r.read("unavailable", SEQUENCE),
  };
  const next = msg.lastSeenSeq + 1 + msg.unavailable;
  if (msg.nextSeq !== next) {
    r.failExpected("next_seq", `last_seen_seq + 1 + unavailable (${next})`, msg.nextSeq);
  }
  if (msg.headSeq < msg.lastSeenSeq) {
    r.failExpected("head_seq", `at least last_seen_seq (${msg.lastSeenSeq})`, msg.headSeq);
  }
  return msg;
}

function orderSubmitToWire(msg: OrderSubmitCommand): WireOrderSubmit {
  const w: WireOrderSubmit = {
    v: SCHEMA_VERSION,
    type: "order_submit",
    req_id: msg.reqId,
    client_order_id: msg.clientOrderId,
    provider: msg.provider,
    symbol: msg.symbol,
    side: msg.side,
    order_type: msg.orderType,
    qty: msg.qty,
  };
  if (msg.timeInForce !== "") w.time_in_force = msg.timeInForce;
  if (msg.price !== "") w.price = msg.price;
  return w;
}

function ackToWire(msg: AckMessage): WireAck {
  const w: WireAck = { v: SCHEMA_VERSION, type: "ack", req_id: msg.reqId, ok: msg.ok };
  if (msg.error !== undefined) w.error = { code: msg.error.code, message: msg.error.message };
  if (msg.routingVersion !== undefined) w.routing_version = msg.routingVersion;
  return w;
}
