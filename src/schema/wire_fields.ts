/**
 * Reading typed fields out of an untrusted wire object, with errors that name the message, the
 * field, what was expected and what was found. Internal to the wire parsers (not re-exported by
 * `mod.ts`).
 *
 * @module
 */

import { isMarketEventKind, type MarketEventKind, SCHEMA_VERSION } from "./event_kind.ts";
import {
  isCanonicalSymbol,
  isDecimalOrEmpty,
  isDecimalString,
  isPositiveDecimalString,
  isProviderName,
  isSequenceNumber,
  isTimestampMs,
} from "./exact_values.ts";
import { type WireErrorCode, WireFormatError } from "./wire_error.ts";

/** How to check one field: a test, what it expects (for messages), and an optional default. */
export interface FieldRule<T> {
  /** What a valid value is, worded to follow "expected field x to be": `a BASE-QUOTE symbol`. */
  expected: string;
  /** True when the value is valid. */
  test: (value: unknown) => value is T;
  /** When set, the field may be absent and then reads as this value. */
  fallback?: T;
}

/** Most characters of a found value quoted in an error message. */
const FOUND_CHARS_MAX = 48;
const REQ_ID_RE = /^[\x21-\x7e]{1,64}$/;

/** A request id: 1..64 printable ASCII characters, no spaces. */
export const REQ_ID: FieldRule<string> = {
  expected: "1..64 printable ASCII characters",
  test: (v): v is string => typeof v === "string" && REQ_ID_RE.test(v),
};
/** A provider name (`binance`). */
export const PROVIDER: FieldRule<string> = {
  expected: "a provider name (lower-case letters, digits, _ or -)",
  test: isProviderName,
};
/** A canonical symbol (`BTC-USDT`). */
export const SYMBOL: FieldRule<string> = {
  expected: "a BASE-QUOTE symbol such as BTC-USDT",
  test: isCanonicalSymbol,
};
/** A market-data kind. */
export const MARKET_KIND: FieldRule<MarketEventKind> = {
  expected: "one of trade, book_snapshot, book_update, ticker, kline",
  test: (v): v is MarketEventKind => typeof v === "string" && isMarketEventKind(v),
};
/** A decimal string. */
export const DECIMAL: FieldRule<string> = {
  expected: 'a decimal string such as "0.001"',
  test: isDecimalString,
};
/** A decimal string or "" (not provided by the source). */
export const DECIMAL_OR_EMPTY: FieldRule<string> = {
  expected: 'a decimal string or ""',
  test: isDecimalOrEmpty,
};
/** A decimal string greater than zero. */
export const POSITIVE_DECIMAL: FieldRule<string> = {
  expected: "a decimal string greater than 0",
  test: isPositiveDecimalString,
};
/** A sequence number or count: a non-negative safe integer. */
export const SEQUENCE: FieldRule<number> = {
  expected: "a non-negative integer",
  test: isSequenceNumber,
};
/** A timestamp in ms since the epoch. */
export const TIMESTAMP_MS: FieldRule<number> = {
  expected: "a non-negative number of ms since the epoch",
  test: isTimestampMs,
};
/** A boolean. */
export const BOOLEAN: FieldRule<boolean> = {
  expected: "true or false",
  test: (v): v is boolean => typeof v === "boolean",
};
/** Any string. */
export const ANY_STRING: FieldRule<string> = {
  expected: "a string",
  test: (v): v is string => typeof v === "string",
};

/** A rule accepting exactly the listed strings. */
export function enumRule<T extends string>(values: readonly T[]): FieldRule<T> {
  return {
    expected: `one of ${values.join(", ")}`,
    test: (v): v is T => (values as readonly unknown[]).includes(v),
  };
}

/** A copy of `rule` that may be absent, reading as `fallback`. */
export function withFallback<T>(rule: FieldRule<T>, fallback: T): FieldRule<T> {
  return { expected: rule.expected, test: rule.test, fallback };
}

/** Options of a {@linkcode WireReader}. */
export interface WireReaderOptions {
  /** Message name that starts every error (`subscribe`, `merged`). */
  context: string;
  /** Path of this object inside the message, prefixed to field names (`fragments[2]`). */
  path?: string;
}

/** Reads and checks the fields of one wire object; every failure throws a WireFormatError. */
export class WireReader {
  readonly #obj: Record<string, unknown>;
  readonly #context: string;
  readonly #path: string;

  /** Wraps `value`, which must be a plain (non-array) object. */
  constructor(value: unknown, options: WireReaderOptions) {
    this.#context = options.context;
    this.#path = options.path ?? "";
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      const where = this.#path === "" ? "a JSON object" : `"${this.#path}" to be a JSON object`;
      throw new WireFormatError(
        "not_an_object",
        `${this.#context}: expected ${where}, found ${describeFound(value)}`,
        { field: this.#path },
      );
    }
    this.#obj = value as Record<string, unknown>;
  }

  /** True when the field is present (not undefined). */
  has(key: string): boolean {
    return this.#obj[key] !== undefined;
  }

  /** The field's raw value (undefined when absent). */
  raw(key: string): unknown {
    return this.#obj[key];
  }

  /** Throws `bad_version` unless `v` equals {@linkcode SCHEMA_VERSION}. */
  version(): void {
    const v = this.#obj.v;
    if (v !== SCHEMA_VERSION) {
      throw new WireFormatError(
        "bad_version",
        `${this.#context}: expected v ${SCHEMA_VERSION}, found ${
          v === undefined ? "none" : describeFound(v)
        }`,
        { field: this.#pathOf("v") },
      );
    }
  }

  /** Reads a field; absent uses the rule's fallback or throws `missing_field`. */
  read<T>(key: string, rule: FieldRule<T>): T {
    const value = this.#obj[key];
    if (value === undefined) {
      if (rule.fallback !== undefined) return rule.fallback;
      this.fail(
        "missing_field",
        key,
        `expected field "${this.#pathOf(key)}" (${rule.expected}), found none`,
      );
    }
    if (!rule.test(value)) this.failExpected(key, rule.expected, value);
    return value;
  }

  /** Reads an array field with `itemsMin..itemsMax` items, each checked by `item`. */
  readList<T>(
    key: string,
    item: FieldRule<T>,
    bounds: { itemsMin: number; itemsMax: number },
  ): T[] {
    const list = this.readArray(key, bounds);
    const out = new Array<T>(list.length);
    for (let i = 0; i < list.length; i++) {
      const value = list[i];
      if (!item.test(value)) this.failExpected(`${key}[${i}]`, item.expected, value);
      out[i] = value;
    }
    return out;
  }

  /** Reads an array field with `itemsMin..itemsMax` items, items unchecked. */
  readArray(key: string, bounds: { itemsMin: number; itemsMax: number }): unknown[] {
    const value = this.#obj[key];
    const expected = `an array of ${bounds.itemsMin}..${bounds.itemsMax} items`;
    if (value === undefined) {
      this.fail(
        "missing_field",
        key,
        `expected field "${this.#pathOf(key)}" (${expected}), found none`,
      );
    }
    if (!Array.isArray(value)) this.failExpected(key, expected, value);
    if (value.length < bounds.itemsMin || value.length > bounds.itemsMax) {
      this.failExpected(key, expected, `${value.length} items`, { verbatim: true });
    }
    return value;
  }

  /** Throws `unknown_field` naming the first key not in `allowed`. */
  rejectUnknown(allowed: readonly string[]): void {
    for (const key in this.#obj) {
      if (!Object.hasOwn(this.#obj, key)) continue;
      if (!allowed.includes(key)) {
        this.fail(
          "unknown_field",
          key,
          `expected only the fields ${allowed.join(", ")}, found "${this.#pathOf(key)}"`,
        );
      }
    }
  }

  /** Throws `invalid_field` saying `key` should be `expected` but is `found`. */
  failExpected(
    key: string,
    expected: string,
    found: unknown,
    options?: { verbatim?: boolean },
  ): never {
    const shown = options?.verbatim === true ? String(found) : describeFound(found);
    this.fail(
      "invalid_field",
      key,
      `expected field "${this.#pathOf(key)}" to be ${expected}, found ${shown}`,
    );
  }

  /** Throws a WireFormatError for `key` with the message prefixed by the context. */
  fail(code: WireErrorCode, key: string, message: string): never {
    throw new WireFormatError(code, `${this.#context}: ${message}`, { field: this.#pathOf(key) });
  }

  #pathOf(key: string): string {
    if (key === "") return this.#path;
    return this.#path === "" ? key : `${this.#path}.${key}`;
  }
}

/**
 * A short, safe rendering of an untrusted value for an error message (strings quoted and cut
 * to 48 characters; containers named, not dumped).
 */
export function describeFound(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "none";
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  switch (typeof value) {
    case "string":
      return value.length > FOUND_CHARS_MAX
        ? `"${value.slice(0, FOUND_CHARS_MAX)}..." (${value.length} chars)`
        : `"${value}"`;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}
