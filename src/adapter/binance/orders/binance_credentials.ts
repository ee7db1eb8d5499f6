/**
 * Binance API credentials: only ever read from the environment (or handed in by the caller),
 * never logged, never put in error messages.
 *
 * @module
 */

/** An HMAC API key pair. */
export interface BinanceCredentials {
  /** Sent as `apiKey` / `X-MBX-APIKEY`. */
  readonly apiKey: string;
  /** Signs requests; never leaves the process. */
  readonly secret: string;
}

/** Environment variable holding the API key. */
export const BINANCE_API_KEY_ENV = "SWITCHYARD_BINANCE_API_KEY";
/** Environment variable holding the API secret. */
export const BINANCE_API_SECRET_ENV = "SWITCHYARD_BINANCE_API_SECRET";

/**
 * Reads {@linkcode BINANCE_API_KEY_ENV} and {@linkcode BINANCE_API_SECRET_ENV}; null when either
 * is unset or empty. `env` defaults to `Deno.env.get` (tests inject a map).
 */
export function binanceCredentialsFromEnv(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): BinanceCredentials | null {
  const apiKey = env(BINANCE_API_KEY_ENV) ?? "";
  const secret = env(BINANCE_API_SECRET_ENV) ?? "";
  if (apiKey === "" || secret === "") return null;
  return { apiKey, secret };
}
