/**
 * Fault knobs of the simulated order side (protocol notes §9 items 10, 16, 18, 20), settable in
 * process (`sim.orders.faults`) or as JSON (`POST /_sim/orders/fault`). Counted faults apply to
 * the next N matching requests or reports, then switch themselves off.
 *
 * @module
 */

/** How an "unknown status" answer looks; the order is placed in every case. */
export type BinanceUnknownStatusMode =
  /** HTTP 503 (WS API `status: 503`) with -1007. */
  | "http5xx"
  /** A 400-class answer with -1007 ("Timeout waiting for response from backend server"). */
  | "code1007"
  /** No answer at all (the client times out). */
  | "drop";

/** A fault command as JSON (the body of `POST /_sim/orders/fault`). */
export type BinanceOrderFaultCommand =
  | { readonly kind: "reportBeforeResponse"; readonly count?: number }
  | { readonly kind: "repeatReports"; readonly count?: number }
  | {
    readonly kind: "unknownStatus";
    readonly mode: BinanceUnknownStatusMode;
    readonly count?: number;
  }
  | { readonly kind: "responseDelay"; readonly delayMs: number; readonly count?: number }
  | { readonly kind: "clockSkew"; readonly skewMs: number }
  | { readonly kind: "dropWsApi"; readonly abrupt?: boolean }
  | { readonly kind: "clear" };

/** Thrown for a malformed fault command. */
export class BinanceOrderFaultError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "BinanceOrderFaultError";
  }
}

/** The knobs. See the module documentation. */
export class BinanceSimOrderFaults {
  #reportFirst = 0;
  #repeat = 0;
  #unknown: { mode: BinanceUnknownStatusMode; count: number } | null = null;
  #delay: { delayMs: number; count: number } | null = null;
  #clockSkewMs = 0;
  readonly #dropWsApi: (abrupt: boolean) => number;

  /** Knobs, all off; `dropWsApi` closes the WS API connections and returns how many. */
  constructor(hooks: { dropWsApi: (abrupt: boolean) => number }) {
    this.#dropWsApi = hooks.dropWsApi;
  }

  /** The next `count` order requests send their executionReports before the response. */
  reportBeforeResponse(count = 1): void {
    this.#reportFirst = positiveInt("count", count);
  }

  /** The next `count` executionReports are sent twice. */
  repeatReports(count = 1): void {
    this.#repeat = positiveInt("count", count);
  }

  /**
   * The next `count` `order.place` requests are executed but answered as "status unknown":
   * HTTP 503 / -1007, a 400-class -1007 timeout answer, or no answer at all.
   */
  unknownStatus(mode: BinanceUnknownStatusMode, count = 1): void {
    if (mode !== "http5xx" && mode !== "code1007" && mode !== "drop") {
      throw new BinanceOrderFaultError(
        `mode: expected http5xx, code1007 or drop, found ${String(mode)}`,
      );
    }
    this.#unknown = { mode, count: positiveInt("count", count) };
  }

  /** The answers of the next `count` order requests are held back `delayMs` (reports are not). */
  responseDelay(delayMs: number, count = 1): void {
    if (!(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= 600_000)) {
      throw new BinanceOrderFaultError(
        `delayMs: expected a number in [0, 600000], found ${delayMs}`,
      );
    }
    this.#delay = { delayMs, count: positiveInt("count", count) };
  }

  /** Shifts the server clock (timestamp checks and `/api/v3/time`) by `skewMs`. */
  clockSkew(skewMs: number): void {
    if (!Number.isFinite(skewMs) || Math.abs(skewMs) > 86_400_000) {
      throw new BinanceOrderFaultError(`skewMs: expected a number within ±1 day, found ${skewMs}`);
    }
    this.#clockSkewMs = skewMs;
  }

  /** Closes every WS API connection (abruptly: no close frame); returns how many. */
  dropWsApi(abrupt = false): number {
    return this.#dropWsApi(abrupt);
  }

  /** Everything off (clock skew back to 0). */
  clear(): void {
    this.#reportFirst = 0;
    this.#repeat = 0;
    this.#unknown = null;
    this.#delay = null;
    this.#clockSkewMs = 0;
  }

  /** Current clock skew, ms. */
  get clockSkewMs(): number {
    return this.#clockSkewMs;
  }

  /** Applies a JSON command; returns what it did. */
  apply(command: unknown): Record<string, unknown> {
    if (command === null || typeof command !== "object") {
      throw new BinanceOrderFaultError("order fault command: expected an object");
    }
    const c = command as Record<string, unknown>;
    const count = c.count === undefined ? 1 : Number(c.count);
    switch (c.kind) {
      case "reportBeforeResponse":
        this.reportBeforeResponse(count);
        return {};
      case "repeatReports":
        this.repeatReports(count);
        return {};
      case "unknownStatus":
        this.unknownStatus(c.mode as BinanceUnknownStatusMode, count);
        return {};
      case "responseDelay":
        this.responseDelay(Number(c.delayMs), count);
        return {};
      case "clockSkew":
        this.clockSkew(Number(c.skewMs));
        return {};
      case "dropWsApi":
        return { dropped: this.dropWsApi(c.abrupt === true) };
      case "clear":
        this.clear();
        return {};
      default:
        throw new BinanceOrderFaultError(
          `kind: expected a known order fault, found ${String(c.kind)}`,
        );
    }
  }

  // ---- consumed by the order side ---------------------------------------------------------

  /** Whether this request's reports go before its answer (consumes one). */
  takeReportFirst(): boolean {
    if (this.#reportFirst === 0) return false;
    this.#reportFirst--;
    return true;
  }

  /** Whether this report is sent twice (consumes one). */
  takeRepeat(): boolean {
    if (this.#repeat === 0) return false;
    this.#repeat--;
    return true;
  }

  /** The unknown-status mode for this place request, or null (consumes one). */
  takeUnknownStatus(): BinanceUnknownStatusMode | null {
    const fault = this.#unknown;
    if (fault === null) return null;
    if (--fault.count === 0) this.#unknown = null;
    return fault.mode;
  }

  /** Delay of this answer, ms (consumes one). */
  takeResponseDelayMs(): number {
    const fault = this.#delay;
    if (fault === null) return 0;
    if (--fault.count === 0) this.#delay = null;
    return fault.delayMs;
  }
}

function positiveInt(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new BinanceOrderFaultError(`${name}: expected a positive integer, found ${value}`);
  }
  return value;
}
