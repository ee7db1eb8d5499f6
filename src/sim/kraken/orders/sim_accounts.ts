/**
 * Accounts and options of the Kraken simulator's order side.
 *
 * @module
 */

/** One API key pair the simulator accepts. */
export interface KrakenSimAccount {
  /** `API-Key` header value. */
  readonly apiKey: string;
  /** Base64 secret (`API-Sign` HMAC key after decoding). */
  readonly secret: string;
}

/**
 * The fake credentials of the default account (orders plan; the secret is the one of Kraken's
 * published signature example, protocol notes kraken.md §6.1).
 */
export const KRAKEN_SIM_CREDENTIALS: Readonly<KrakenSimAccount> = Object.freeze({
  apiKey: "fakeKrakenApiKey000000000000000000000000000000000000000",
  secret:
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
});

/**
 * Which comes first after an accepted `add_order`: the method response or the `pending_new`
 * update (kraken.md §6.3: either order happens on the real venue).
 */
export type KrakenResponseOrder = "random" | "response_first" | "update_first";

/** Default token lifetime before first use (kraken.md §6.1: 15 minutes). */
export const KRAKEN_TOKEN_LIFETIME_MS_DEFAULT = 900_000;

/** Default error text of a duplicate open `cl_ord_id` (kraken.md §6.2, §8). */
export const KRAKEN_DUPLICATE_ORDER_ERROR_DEFAULT = "EOrder:Duplicate order";

/** Options of the order side (`KrakenSimOptions.orders`). */
export interface KrakenSimOrderOptions {
  /** Accepted API keys (default one: {@linkcode KRAKEN_SIM_CREDENTIALS}). */
  readonly accounts?: readonly KrakenSimAccount[];
  /** Port of the authenticated WebSocket endpoint (0 = any free port; default 0). */
  readonly authPort?: number;
  /** Starting balances of every account per asset (default 1 000 000 USDT, 100 BTC, 10 000 others). */
  readonly initialBalances?: Record<string, string>;
  /** Fee rate of every fill (default the engine's). */
  readonly feeRate?: string;
  /** How long a token may wait for its first use, ms (default 900 000). */
  readonly tokenLifetimeMs?: number;
  /** Response vs `pending_new` order (default `random`). */
  readonly responseOrder?: KrakenResponseOrder;
  /** Error text of a duplicate open `cl_ord_id` (default `EOrder:Duplicate order`). */
  readonly duplicateOrderError?: string;
  /** Uniform random source in [0, 1) for `random` choices and tokens' order (default Math.random). */
  readonly random?: () => number;
}
