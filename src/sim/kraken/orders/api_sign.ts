/**
 * Kraken's REST request signature (protocol notes kraken.md §6.1), as the simulator checks it:
 * `API-Sign = Base64(HMAC-SHA512(Base64Decode(secret), uri_path + SHA256(nonce + postdata)))`.
 *
 * The simulator keeps its own copy instead of importing the adapter's, so a bug in one cannot
 * hide in both; the unit test checks both against the published vectors.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The `API-Sign` value of one request.
 *
 * @example
 * ```ts
 * await krakenSimApiSign("/0/private/GetWebSocketsToken", { nonce: "1700000000000",
 *   postData: "nonce=1700000000000", secret: "kQH5HW/8p1u..." });
 * ```
 */
export async function krakenSimApiSign(
  uriPath: string,
  request: { nonce: string; postData: string; secret: string },
): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", encoder.encode(request.nonce + request.postData)),
  );
  const path = encoder.encode(uriPath);
  const message = new Uint8Array(path.length + digest.length);
  message.set(path, 0);
  message.set(digest, path.length);
  const key = await crypto.subtle.importKey(
    "raw",
    base64Bytes(request.secret),
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  return bytesBase64(mac);
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function bytesBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** Constant-time comparison of two ASCII strings (signature checks). */
export function equalTexts(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
