/**
 * Kraken API credentials: only ever read from the environment, never logged.
 *
 * @module
 */

/** A Kraken API key pair. */
export interface KrakenCredentials {
  /** `API-Key` header value. */
  apiKey: string;
  /** Base64 private key (the HMAC key after decoding). */
  secret: string;
}

/** Environment variable of the API key. */
export const KRAKEN_API_KEY_ENV = "SWITCHYARD_KRAKEN_API_KEY";
/** Environment variable of the API secret. */
export const KRAKEN_API_SECRET_ENV = "SWITCHYARD_KRAKEN_API_SECRET";

/**
 * Credentials from `SWITCHYARD_KRAKEN_API_KEY` / `SWITCHYARD_KRAKEN_API_SECRET`; null when
 * either is unset or empty. `env` defaults to `Deno.env.get` (tests pass a map).
 */
export function krakenCredentialsFromEnv(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): KrakenCredentials | null {
  const apiKey = env(KRAKEN_API_KEY_ENV) ?? "";
  const secret = env(KRAKEN_API_SECRET_ENV) ?? "";
  if (apiKey === "" || secret === "") return null;
  return { apiKey, secret };
}
