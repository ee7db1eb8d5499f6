/**
 * OrderControl: what both control surfaces (the WebSocket endpoint and the HTTP API) share for
 * orders: the {@linkcode OrderDesk} (absent when no order gateway is configured), the
 * {@linkcode ConsumerAuth} table, and the outcome counters behind
 * `switchyard_order_commands_total{surface,outcome}`.
 *
 * The gateway builds one and hands the same object to `StreamServer` (`orders` option) and to
 * `startHttpServer` (`orders` option), so the metric family is registered once.
 *
 * @module
 */

import type { MetricsRegistry } from "../telemetry/metrics.ts";
import { ConsumerAuth } from "./consumer_auth.ts";
import { ORDER_CODES, type OrderDesk } from "./order_desk.ts";

/** Where an order command came in. */
export const ORDER_COMMAND_SURFACES = ["ws", "http"] as const;
/** One of {@linkcode ORDER_COMMAND_SURFACES}. */
export type OrderCommandSurface = typeof ORDER_COMMAND_SURFACES[number];

/** How an `order_submit`, `order_cancel` or `trading` command ended. */
export const ORDER_COMMAND_OUTCOMES = [
  "ok",
  "invalid",
  "unauthorized",
  "forbidden",
  "duplicate",
  "trading_disabled",
  "refused",
  "unavailable",
] as const;

/**
 * - `ok`: journaled (submit, cancel) or switched (trading);
 * - `invalid`: HTTP only: the body is not a valid command (on the WebSocket such frames are
 *   counted as bad commands, since their type may not be readable);
 * - `unauthorized`: no token, or not this consumer's;
 * - `forbidden`: authenticated, but not allowed (enabling trading, another consumer's switch);
 * - `duplicate`: `duplicate_client_order_id`;
 * - `trading_disabled`: the consumer's switch is off;
 * - `refused`: any other refusal of the desk (validation, unknown order);
 * - `unavailable`: no order gateway, venue unavailable, or an internal error of the desk.
 */
export type OrderCommandOutcome = typeof ORDER_COMMAND_OUTCOMES[number];

/** Counts per outcome of one surface. */
export type OrderCommandCounts = Record<OrderCommandOutcome, number>;

/** Options of {@linkcode OrderControl}. */
export interface OrderControlOptions {
  /** The order gateway; absent: order commands answer `not_supported` (HTTP 503). */
  desk?: OrderDesk;
  /** Who may trade; default: nobody (every token is refused). */
  auth?: ConsumerAuth;
  /** When given, `switchyard_order_commands_total{surface,outcome}` is registered here. */
  metrics?: MetricsRegistry;
  /** Told when the desk throws (the client gets `internal_error`); must not throw. */
  onDeskError?: (err: unknown) => void;
}

/** The order plane shared by the WebSocket endpoint and the HTTP API. */
export class OrderControl {
  /** The order gateway, when configured. */
  readonly desk: OrderDesk | undefined;
  /** Trading tokens. */
  readonly auth: ConsumerAuth;
  readonly #counts: Record<OrderCommandSurface, OrderCommandCounts> = {
    ws: zeroOutcomes(),
    http: zeroOutcomes(),
  };
  readonly #onDeskError: ((err: unknown) => void) | null;

  /** Creates the plane; registers its metric family when `opts.metrics` is given. */
  constructor(opts?: OrderControlOptions) {
    this.desk = opts?.desk;
    this.auth = opts?.auth ?? new ConsumerAuth();
    this.#onDeskError = opts?.onDeskError ?? null;
    if (opts?.metrics !== undefined) this.#register(opts.metrics);
  }

  /** Counts one command's outcome. */
  count(surface: OrderCommandSurface, outcome: OrderCommandOutcome): void {
    this.#counts[surface][outcome]++;
  }

  /** A copy of the counters, per surface. */
  counts(): Record<OrderCommandSurface, OrderCommandCounts> {
    return { ws: { ...this.#counts.ws }, http: { ...this.#counts.http } };
  }

  /** Reports a desk exception (the hook's own exceptions are swallowed). */
  deskFailed(err: unknown): void {
    if (this.#onDeskError === null) return;
    try {
      this.#onDeskError(err);
    } catch {
      // A logging hook must not break a command's answer.
    }
  }

  #register(metrics: MetricsRegistry): void {
    const family = metrics.counter(
      "switchyard_order_commands_total",
      "Order and trading-switch commands, by surface (ws, http) and outcome",
      ["surface", "outcome"],
    );
    const children = ORDER_COMMAND_SURFACES.flatMap((surface) =>
      ORDER_COMMAND_OUTCOMES.map((outcome) =>
        [surface, outcome, family.labels(surface, outcome)] as const
      )
    );
    metrics.collect(() => {
      for (const [surface, outcome, child] of children) {
        child.syncTo(this.#counts[surface][outcome]);
      }
    });
  }
}

/** The outcome counted for a desk refusal code. */
export function outcomeOfCode(code: string): OrderCommandOutcome {
  switch (code) {
    case ORDER_CODES.duplicate:
      return "duplicate";
    case ORDER_CODES.tradingDisabled:
      return "trading_disabled";
    case ORDER_CODES.unauthorized:
      return "unauthorized";
    case ORDER_CODES.forbidden:
      return "forbidden";
    case ORDER_CODES.venueUnavailable:
    case ORDER_CODES.busy:
    case ORDER_CODES.notSupported:
    case ORDER_CODES.internalError:
      return "unavailable";
    default:
      return "refused";
  }
}

/** The HTTP status of an order command's ack, from its outcome and error code. */
export function httpStatusOfOrder(outcome: OrderCommandOutcome, code: string): number {
  switch (outcome) {
    case "ok":
      return 200;
    case "invalid":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
    case "trading_disabled":
      return 403;
    case "duplicate":
      return 409;
    case "unavailable":
      return code === ORDER_CODES.busy ? 429 : 503;
    case "refused":
      return code === ORDER_CODES.unknownOrder ? 404 : 400;
  }
}

function zeroOutcomes(): OrderCommandCounts {
  const out = {} as OrderCommandCounts;
  for (const o of ORDER_COMMAND_OUTCOMES) out[o] = 0;
  return out;
}
