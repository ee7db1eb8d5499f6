/**
 * ConsumerAuth: who may trade. Each trading consumer has a token; an optional admin token may
 * read every consumer's orders and flip any trading switch.
 *
 * Only SHA-256 digests are kept in memory (a heap dump or a log of this object shows no token),
 * and a presented token is compared by digest in constant time: the time taken does not depend
 * on how much of the token was right. Plain tokens exist only while a request is checked.
 *
 * Tokens travel as `Authorization: Bearer <token>` (HTTP and the WebSocket upgrade) or, on the
 * WebSocket upgrade only, as `?token=<token>` for clients that cannot set headers (browsers);
 * the header is preferred because query strings end up in proxy and access logs.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { isConsumerId } from "../schema/mod.ts";

/** Length of a SHA-256 digest, bytes. */
export const SHA256_BYTES = 32;
/** Query parameter of the WebSocket upgrade that may carry a token. */
export const TOKEN_PARAM = "token";

const SHA256_HEX_RE = /^[0-9a-fA-F]{64}$/;
const BEARER_RE = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** One trader's entry: the SHA-256 of its token, 64 hex digits. */
export interface TraderEntry {
  /** SHA-256 of the token, hex (case ignored). */
  tokenSha256: string;
}

/** Options of {@linkcode ConsumerAuth} (the shape of the gateway config's fields). */
export interface ConsumerAuthOptions {
  /** Trading consumers by id, each with its token's digest. */
  traders?: Readonly<Record<string, TraderEntry>>;
  /** SHA-256 of the admin token, hex; "" or absent: no admin token. */
  adminTokenSha256?: string;
}

/** Plain tokens, for tests and embedding (hashed at once, then dropped). */
export interface ConsumerAuthTokens {
  /** Token of each trading consumer, by id. */
  traders?: Readonly<Record<string, string>>;
  /** The admin token; "" or absent: none. */
  adminToken?: string;
}

/** What a bearer token proves about a request for one consumer's resource. */
export type TokenRole =
  /** No credential presented. */
  | "none"
  /** A credential that is neither the consumer's token nor the admin token (or malformed). */
  | "invalid"
  /** The consumer's own token. */
  | "owner"
  /** The admin token. */
  | "admin";

/** The SHA-256 of a UTF-8 text, lower-case hex. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * True when `a` and `b` hold the same bytes. Runs through every byte whatever it finds, so its
 * time depends only on the lengths (which, for digests, are fixed and public).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * The bearer token of a request: the token string, `null` when there is no `Authorization`
 * header, or `""` when there is one that is not `Bearer <token>` (a credential, but unusable).
 */
export function bearerToken(headers: Headers): string | null {
  const value = headers.get("authorization");
  if (value === null) return null;
  const m = BEARER_RE.exec(value);
  return m === null ? "" : m[1];
}

/** Trading tokens by consumer, plus the admin token; see the module doc. */
export class ConsumerAuth {
  readonly #traders = new Map<string, Uint8Array>();
  readonly #admin: Uint8Array | null;
  /** Compared against when an id has no token, so an unknown id costs the same time. */
  readonly #decoy = new Uint8Array(SHA256_BYTES);

  /**
   * Builds the table from digests (the config's `traders` and `adminTokenSha256`). Throws a
   * RangeError naming the entry (never a secret) for a bad id or digest.
   */
  constructor(opts?: ConsumerAuthOptions) {
    for (const [id, entry] of Object.entries(opts?.traders ?? {})) {
      if (!isConsumerId(id)) {
        throw new RangeError(
          `traders: expected consumer ids of 1..64 of A-Z a-z 0-9 . _ : -, found "${
            String(id).slice(0, 80)
          }"`,
        );
      }
      this.#traders.set(id, digestFromHex(`traders["${id}"].tokenSha256`, entry?.tokenSha256));
    }
    const admin = opts?.adminTokenSha256 ?? "";
    this.#admin = admin === "" ? null : digestFromHex("adminTokenSha256", admin);
  }

  /** Builds the table from plain tokens (hashed here; the strings are not kept). */
  static fromTokens(tokens: ConsumerAuthTokens): ConsumerAuth {
    const traders: Record<string, TraderEntry> = {};
    for (const [id, token] of Object.entries(tokens.traders ?? {})) {
      if (token === "") throw new RangeError(`traders["${id}"]: expected a non-empty token`);
      traders[id] = { tokenSha256: sha256Hex(token) };
    }
    const admin = tokens.adminToken ?? "";
    return new ConsumerAuth({
      traders,
      adminTokenSha256: admin === "" ? "" : sha256Hex(admin),
    });
  }

  /** Ids that have a trading token, sorted. */
  traderIds(): string[] {
    return [...this.#traders.keys()].sort();
  }

  /** True when an admin token is configured. */
  get hasAdmin(): boolean {
    return this.#admin !== null;
  }

  /** True when `token` is the trading token of `consumerId` (constant time in the token). */
  isTrader(consumerId: string, token: string): boolean {
    if (token === "") return false;
    const presented = digest(token);
    const expected = this.#traders.get(consumerId);
    const ok = constantTimeEqual(presented, expected ?? this.#decoy);
    return ok && expected !== undefined;
  }

  /** True when `token` is the admin token (constant time in the token). */
  isAdmin(token: string): boolean {
    if (token === "") return false;
    const presented = digest(token);
    const ok = constantTimeEqual(presented, this.#admin ?? this.#decoy);
    return ok && this.#admin !== null;
  }

  /** What `token` (as from {@linkcode bearerToken}) proves for a resource of `consumerId`. */
  role(consumerId: string, token: string | null): TokenRole {
    if (token === null) return "none";
    // Both checks always run, so the answer's timing does not tell which of the two matched.
    const owner = this.isTrader(consumerId, token);
    const admin = this.isAdmin(token);
    if (admin) return "admin";
    if (owner) return "owner";
    return "invalid";
  }

  /** A log-safe summary: ids and whether an admin token exists, never digests. */
  toJSON(): { traders: string[]; admin: boolean } {
    return { traders: this.traderIds(), admin: this.hasAdmin };
  }
}

function digest(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token, "utf8").digest());
}

function digestFromHex(what: string, hex: unknown): Uint8Array {
  if (typeof hex !== "string" || !SHA256_HEX_RE.test(hex)) {
    throw new RangeError(
      `${what}: expected a SHA-256 digest of 64 hex digits, found ${
        typeof hex === "string" ? `${hex.length} characters` : typeof hex
      }`,
    );
  }
  const out = new Uint8Array(SHA256_BYTES);
  for (let i = 0; i < SHA256_BYTES; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
