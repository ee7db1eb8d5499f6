/**
 * Kraken REST request signing (protocol notes kraken.md §6.1):
 * `API-Sign = Base64(HMAC-SHA512(Base64Decode(secret), uri_path + SHA256(nonce + postdata)))`,
 * with SHA-256's raw bytes. Uses WebCrypto; the secret never leaves this function.
 *
 * @module
 */

const encoder = new TextEncoder();

/** What one signature covers. */
export interface KrakenSignInput {
  /** The nonce as sent (decimal digits). */
  nonce: string;
  /** The exact form-encoded body (`nonce=...&...`). */
  postData: string;
  /** Base64 API secret. */
  secret: string;
}

/**
 * The `API-Sign` header of a private REST request.
 *
 * @example
 * ```ts
 * const sign = await krakenApiSign("/0/private/GetWebSocketsToken", {
 *   nonce: "1700000000000", postData: "nonce=1700000000000", secret,
 * });
 * ```
 */
export async function krakenApiSign(uriPath: string, input: KrakenSignInput): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", encoder.encode(input.nonce + input.postData)),
  );
  const pathBytes = encoder.encode(uriPath);
  const message = new Uint8Array(pathBytes.length + hash.length);
  message.set(pathBytes);
  message.set(hash, pathBytes.length);
  const key = await crypto.subtle.importKey(
    "raw",
    decodeBase64(input.secret),
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["sign"],
  );
  return encodeBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, message)));
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    // Never echo the secret: say only what was wrong with it.
    throw new RangeError("kraken secret: expected base64 text, found something else");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}
