/**
 * Fault injection for the Binance simulator: a typed API (`sim.faults.*`) and the same commands
 * as JSON for out-of-process callers (`POST /_sim/fault`). Every knob can be set at runtime;
 * {@link BinanceSimFaults.clear} returns to normal behaviour.
 *
 * @module
 */

import type { BinanceMarketFeed, DepthSnapshot } from "./market_feed.ts";
import type { MalformedKind, WsConnection } from "./ws_connection.ts";
import type { WeightLimiter } from "./weight_limiter.ts";

/** What the faults act on; implemented by the simulator. */
export interface FaultTargets {
  /** Open connections. */
  connections(): readonly WsConnection[];
  /** The generated-market feed, or null in replay mode. */
  feed(): BinanceMarketFeed | null;
  /** REST weight accounting. */
  readonly limiter: WeightLimiter;
  /** Whether `symbol` (upper case) is served. */
  hasSymbol(symbol: string): boolean;
  /** All served symbols, upper case. */
  symbols(): readonly string[];
}

/** Selects connections: one by id, or all open ones when omitted. */
export interface ConnectionSelector {
  /** Connection id from `sim.connections()`; omitted = every open connection. */
  readonly connectionId?: number;
}

/** A fault command as JSON (the body of `POST /_sim/fault`). */
export type FaultCommand =
  | { readonly kind: "sequenceGap"; readonly symbol: string; readonly eventsDropped?: number }
  | { readonly kind: "duplicateDiff"; readonly symbol: string; readonly events?: number }
  | { readonly kind: "dropConnections"; readonly connectionId?: number; readonly abrupt?: boolean }
  | { readonly kind: "stall"; readonly connectionId?: number; readonly durationMs?: number }
  | { readonly kind: "unstall"; readonly connectionId?: number }
  | { readonly kind: "slowServer"; readonly delayMs: number; readonly connectionId?: number }
  | {
    readonly kind: "malformedFrame";
    readonly connectionId?: number;
    readonly malformed?: MalformedKind;
    readonly count?: number;
  }
  | { readonly kind: "staleSnapshot"; readonly symbol?: string; readonly responses?: number }
  | {
    readonly kind: "delaySnapshot";
    readonly delayMs: number;
    readonly symbol?: string;
    readonly responses?: number;
  }
  | { readonly kind: "weightLimit"; readonly limit: number }
  | { readonly kind: "resetRateLimit" }
  | { readonly kind: "serverShutdown"; readonly connectionId?: number }
  | { readonly kind: "ackDelay"; readonly delayMs: number }
  | { readonly kind: "clear" };

/** Thrown for an invalid fault command (bad kind, field type or unknown symbol). */
export class FaultCommandError extends Error {
  /** A command error with `message`. */
  constructor(message: string) {
    super(message);
    this.name = "FaultCommandError";
  }
}

interface CountedFault<T> {
  readonly value: T;
  responses: number;
}

/** See the module documentation. */
export class BinanceSimFaults {
  readonly #targets: FaultTargets;
  readonly #initialWeightLimit: number;
  readonly #stale = new Map<string, CountedFault<DepthSnapshot>>();
  readonly #delays = new Map<string, CountedFault<number>>();
  #ackDelayMs = 0;
  #newConnectionDelayMs = 0;

  /** Faults over `targets`, all off. */
  constructor(targets: FaultTargets) {
    this.#targets = targets;
    this.#initialWeightLimit = targets.limiter.limit;
  }

  /** Current ack delay in ms (read by connections). */
  get ackDelayMs(): number {
    return this.#ackDelayMs;
  }

  /** Send delay new connections start with (set by a global {@link BinanceSimFaults.slowServer}). */
  get newConnectionDelayMs(): number {
    return this.#newConnectionDelayMs;
  }

  /**
   * Sequence gap: the next `eventsDropped` (default 1) diff-depth events of `symbol` are not
   * sent, on `@depth` and `@depth@100ms` alike, so the next one that is sent has
   * `U > previous u + 1`. The book and the REST snapshot stay consistent: a resync succeeds.
   */
  sequenceGap(symbol: string, options: { eventsDropped?: number } = {}): void {
    this.#liveFeed("sequenceGap").dropDiffs(
      this.#symbol(symbol),
      positiveInt("eventsDropped", options.eventsDropped ?? 1),
    );
  }

  /** Duplicate events: the next `events` (default 1) diff events of `symbol` are sent twice. */
  duplicateDiff(symbol: string, options: { events?: number } = {}): void {
    this.#liveFeed("duplicateDiff").repeatDiffs(
      this.#symbol(symbol),
      positiveInt("events", options.events ?? 1),
    );
  }

  /**
   * Drops connections: abruptly (default; TCP closed without a close frame, the client sees
   * code 1006/abnormal) or gracefully (close frame 1000). Returns how many.
   */
  dropConnections(options: ConnectionSelector & { abrupt?: boolean } = {}): number {
    const selected = this.#select(options);
    for (const connection of selected) {
      if (options.abrupt ?? true) connection.drop();
      else connection.close(1000, "dropped by simulator");
    }
    return selected.length;
  }

  /**
   * Silent stall: the selected connections stop receiving anything (data and replies) but stay
   * open; Deno still answers pings. With `durationMs` the stall lifts by itself.
   */
  stall(options: ConnectionSelector & { durationMs?: number } = {}): number {
    const durationMs = nonNegative("durationMs", options.durationMs ?? 0);
    const selected = this.#select(options);
    for (const connection of selected) connection.setStalled(true, durationMs);
    return selected.length;
  }

  /** Lifts a stall. */
  unstall(options: ConnectionSelector = {}): number {
    const selected = this.#select(options);
    for (const connection of selected) connection.setStalled(false);
    return selected.length;
  }

  /**
   * Slow server: every frame to the selected connections is sent `delayMs` later (0 = off).
   * Without a connection id it also applies to connections opened later.
   */
  slowServer(options: ConnectionSelector & { delayMs: number }): number {
    const delayMs = nonNegative("delayMs", options.delayMs);
    if (options.connectionId === undefined) this.#newConnectionDelayMs = delayMs;
    const selected = this.#select(options);
    for (const connection of selected) connection.sendDelayMs = delayMs;
    return selected.length;
  }

  /** Sends `count` (default 1) malformed frames now: half a frame, or text that is not JSON. */
  malformedFrame(
    options: ConnectionSelector & { malformed?: MalformedKind; count?: number } = {},
  ): number {
    const kind = options.malformed ?? "truncated";
    if (kind !== "truncated" && kind !== "invalidJson") {
      throw new FaultCommandError(
        `malformed: expected truncated or invalidJson, found ${String(kind)}`,
      );
    }
    const count = positiveInt("count", options.count ?? 1);
    const selected = this.#select(options);
    for (const connection of selected) {
      for (let i = 0; i < count; i++) connection.sendMalformed(kind);
    }
    return selected.length;
  }

  /**
   * Stale snapshot: captures the book of `symbol` (all symbols when omitted) now and serves that
   * capture to the next `responses` (default 1) depth requests. The diff windows are closed at
   * capture time, so every diff event sent afterwards starts after the capture: a client that
   * (re)subscribes after this call always sees `lastUpdateId < U` of its first buffered event.
   */
  staleSnapshot(options: { symbol?: string; responses?: number } = {}): void {
    const feed = this.#liveFeed("staleSnapshot");
    const responses = positiveInt("responses", options.responses ?? 1);
    const symbols = options.symbol === undefined
      ? this.#targets.symbols()
      : [this.#symbol(options.symbol)];
    for (const symbol of symbols) {
      feed.flushDepthNow(symbol);
      this.#stale.set(symbol, { value: feed.depth(symbol, 5000), responses });
    }
  }

  /** Delayed snapshot: the next `responses` (default 1) depth answers wait `delayMs` first. */
  delaySnapshot(options: { delayMs: number; symbol?: string; responses?: number }): void {
    const delayMs = nonNegative("delayMs", options.delayMs);
    const responses = positiveInt("responses", options.responses ?? 1);
    const key = options.symbol === undefined ? "*" : this.#symbol(options.symbol);
    this.#delays.set(key, { value: delayMs, responses });
  }

  /** Changes the REST weight limit per window (429 beyond it, then 418). */
  setWeightLimit(limit: number): void {
    this.#targets.limiter.setLimit(limit);
  }

  /** Empties the weight window and lifts any 429 back-off or 418 ban. */
  resetRateLimit(): void {
    this.#targets.limiter.reset();
  }

  /** Sends a `serverShutdown` event now (raw or combined form per connection). */
  serverShutdown(options: ConnectionSelector = {}): number {
    const selected = this.#select(options);
    for (const connection of selected) connection.sendServerShutdown();
    return selected.length;
  }

  /** Delays every control reply by `delayMs`, so data frames can arrive before the ack. */
  ackDelay(delayMs: number): void {
    this.#ackDelayMs = nonNegative("delayMs", delayMs);
  }

  /** Turns every fault off (and restores the weight limit the simulator started with). */
  clear(): void {
    this.#stale.clear();
    this.#delays.clear();
    this.#ackDelayMs = 0;
    this.#newConnectionDelayMs = 0;
    for (const connection of this.#targets.connections()) {
      connection.setStalled(false);
      connection.sendDelayMs = 0;
    }
    this.#targets.limiter.setLimit(this.#initialWeightLimit);
    this.#targets.limiter.reset();
  }

  /** Runs a JSON command; returns `{ affected }` for connection faults, `{}` otherwise. */
  apply(command: unknown): { affected?: number } {
    if (typeof command !== "object" || command === null || Array.isArray(command)) {
      throw new FaultCommandError("fault command: expected a JSON object with a kind");
    }
    const c = command as Record<string, unknown>;
    const id = optionalInt(c, "connectionId");
    switch (c.kind) {
      case "sequenceGap":
        this.sequenceGap(requiredString(c, "symbol"), {
          eventsDropped: optionalInt(c, "eventsDropped"),
        });
        return {};
      case "duplicateDiff":
        this.duplicateDiff(requiredString(c, "symbol"), { events: optionalInt(c, "events") });
        return {};
      case "dropConnections":
        return {
          affected: this.dropConnections({ connectionId: id, abrupt: optionalBool(c, "abrupt") }),
        };
      case "stall":
        return {
          affected: this.stall({ connectionId: id, durationMs: optionalNumber(c, "durationMs") }),
        };
      case "unstall":
        return { affected: this.unstall({ connectionId: id }) };
      case "slowServer":
        return {
          affected: this.slowServer({ connectionId: id, delayMs: requiredNumber(c, "delayMs") }),
        };
      case "malformedFrame":
        return {
          affected: this.malformedFrame({
            connectionId: id,
            malformed: c.malformed as MalformedKind | undefined,
            count: optionalInt(c, "count"),
          }),
        };
      case "staleSnapshot":
        this.staleSnapshot({
          symbol: optionalString(c, "symbol"),
          responses: optionalInt(c, "responses"),
        });
        return {};
      case "delaySnapshot":
        this.delaySnapshot({
          delayMs: requiredNumber(c, "delayMs"),
          symbol: optionalString(c, "symbol"),
          responses: optionalInt(c, "responses"),
        });
        return {};
      case "weightLimit":
        this.setWeightLimit(requiredNumber(c, "limit"));
        return {};
      case "resetRateLimit":
        this.resetRateLimit();
        return {};
      case "serverShutdown":
        return { affected: this.serverShutdown({ connectionId: id }) };
      case "ackDelay":
        this.ackDelay(requiredNumber(c, "delayMs"));
        return {};
      case "clear":
        this.clear();
        return {};
      default:
        throw new FaultCommandError(
          `kind: expected a known fault kind, found ${JSON.stringify(c.kind)}`,
        );
    }
  }

  /** Takes one stale-snapshot response for `symbol`, or null when none is armed. */
  takeStaleSnapshot(symbol: string): DepthSnapshot | null {
    return take(this.#stale, symbol);
  }

  /** Takes one snapshot delay for `symbol` (a symbol-specific one first), or 0. */
  takeSnapshotDelay(symbol: string): number {
    return take(this.#delays, symbol) ?? take(this.#delays, "*") ?? 0;
  }

  #liveFeed(what: string): BinanceMarketFeed {
    const feed = this.#targets.feed();
    if (feed === null) {
      throw new FaultCommandError(`${what}: expected a generated market, found replay mode`);
    }
    return feed;
  }

  #symbol(symbol: string): string {
    if (typeof symbol !== "string" || !this.#targets.hasSymbol(symbol)) {
      throw new FaultCommandError(
        `symbol: expected a simulated symbol, found ${JSON.stringify(symbol)}`,
      );
    }
    return symbol;
  }

  #select(selector: ConnectionSelector): WsConnection[] {
    const all = this.#targets.connections();
    if (selector.connectionId === undefined) return [...all];
    return all.filter((c) => c.id === selector.connectionId);
  }
}

function take<T>(map: Map<string, CountedFault<T>>, key: string): T | null {
  const fault = map.get(key);
  if (fault === undefined) return null;
  if (--fault.responses <= 0) map.delete(key);
  return fault.value;
}

function positiveInt(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 1)) {
    throw new FaultCommandError(`${name}: expected a positive integer, found ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
    throw new FaultCommandError(`${name}: expected a non-negative number, found ${value}`);
  }
  return value;
}

function requiredString(c: Record<string, unknown>, key: string): string {
  const value = c[key];
  if (typeof value !== "string") {
    throw new FaultCommandError(`${key}: expected a string, found ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalString(c: Record<string, unknown>, key: string): string | undefined {
  return c[key] === undefined ? undefined : requiredString(c, key);
}

function requiredNumber(c: Record<string, unknown>, key: string): number {
  const value = c[key];
  if (typeof value !== "number") {
    throw new FaultCommandError(`${key}: expected a number, found ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalNumber(c: Record<string, unknown>, key: string): number | undefined {
  return c[key] === undefined ? undefined : requiredNumber(c, key);
}

function optionalInt(c: Record<string, unknown>, key: string): number | undefined {
  const value = optionalNumber(c, key);
  if (value !== undefined && !Number.isSafeInteger(value)) {
    throw new FaultCommandError(`${key}: expected an integer, found ${value}`);
  }
  return value;
}

function optionalBool(c: Record<string, unknown>, key: string): boolean | undefined {
  const value = c[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") {
    throw new FaultCommandError(`${key}: expected a boolean, found ${JSON.stringify(value)}`);
  }
  return value;
}
