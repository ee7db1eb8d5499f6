/**
 * Property tests of the Binance decoders: the shape-specialised scanner against the generic
 * path and against an independent model of the expected fields; fallback on every layout
 * deviation; DecodeError (and only DecodeError) for malformed input.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  binanceDecodeCounters,
  decodeBinanceFrame,
  DecodeError,
  isPlainDecimal,
} from "../../src/codec/mod.ts";
import { ProviderRaw, type ProviderRawData } from "../../src/schema/provider_raw.ts";
import { isDecimalString } from "../../src/schema/exact_values.ts";

// ---------------------------------------------------------------------------------------------
// Arbitraries: Binance hot-shape payloads as models in Binance's own key order.

type Model = Record<string, unknown>;

/** A hot-shape message: its model, the stream name when wrapped, and its canonical text. */
interface Msg {
  shape: "trade" | "aggTrade" | "depthUpdate" | "bookTicker";
  model: Model;
  stream: string | null;
}

const digitChar = fc.constantFrom(..."0123456789");
const digitsArb = (minLength: number, maxLength: number) =>
  fc.string({ unit: digitChar, minLength, maxLength });

/** Decimal strings as Binance writes them: "87250.01000000", "0.00120000", "7", "0.5". */
const decimalArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.nat({ max: 1_000_000_000 }), digitsArb(8, 8)).map(([i, f]) => `${i}.${f}`),
  fc.tuple(fc.nat({ max: 100_000 }), fc.option(digitsArb(1, 10), { nil: undefined })).map((
    [i, f],
  ) => f === undefined ? String(i) : `${i}.${f}`),
  fc.constantFrom("0.00000000", "0", "0.00120000", "87250.01000000", "1333118830.51000000"),
);

const symbolArb = fc.stringMatching(/^[A-Z0-9]{2,12}$/);
/** Ids the scanner reads itself (at most 15 digits). */
const idArb = fc.oneof(
  fc.integer({ min: 0, max: 999_999_999_999_999 }),
  fc.integer({ min: 0, max: 100 }),
);
const timeArb = fc.integer({ min: 0, max: 4_102_444_800_000 });
const levelsArb = fc.array(fc.tuple(decimalArb, decimalArb), { maxLength: 25 });

const tradeArb = fc.record({
  E: timeArb,
  s: symbolArb,
  t: idArb,
  p: decimalArb,
  q: decimalArb,
  T: timeArb,
  m: fc.boolean(),
  M: fc.boolean(),
}).map((r) => ({ e: "trade", ...r }));

const aggTradeArb = fc.record({
  E: timeArb,
  s: symbolArb,
  a: idArb,
  p: decimalArb,
  q: decimalArb,
  f: idArb,
  l: idArb,
  T: timeArb,
  m: fc.boolean(),
  M: fc.boolean(),
}).map((r) => ({ e: "aggTrade", ...r }));

const depthUpdateArb = fc.record({
  E: timeArb,
  s: symbolArb,
  U: idArb,
  u: idArb,
  b: levelsArb,
  a: levelsArb,
}).map((r) => ({ e: "depthUpdate", ...r }));

const bookTickerArb = fc.record({
  u: idArb,
  s: symbolArb,
  b: decimalArb,
  B: decimalArb,
  a: decimalArb,
  A: decimalArb,
});

const STREAM_SUFFIX: Record<Msg["shape"], string> = {
  trade: "@trade",
  aggTrade: "@aggTrade",
  depthUpdate: "@depth@100ms",
  bookTicker: "@bookTicker",
};

function withWrapper(shape: Msg["shape"], model: fc.Arbitrary<Model>): fc.Arbitrary<Msg> {
  return fc.tuple(model, fc.boolean()).map(([m, wrapped]) => ({
    shape,
    model: m,
    stream: wrapped ? `${String(m.s).toLowerCase()}${STREAM_SUFFIX[shape]}` : null,
  }));
}

const msgArb: fc.Arbitrary<Msg> = fc.oneof(
  withWrapper("trade", tradeArb),
  withWrapper("aggTrade", aggTradeArb),
  withWrapper("depthUpdate", depthUpdateArb),
  withWrapper("bookTicker", bookTickerArb),
);

/** The frame as Binance sends it: object keys in model order, no whitespace. */
function frameOf(msg: Msg, model: Model = msg.model): string {
  return JSON.stringify(msg.stream === null ? model : { stream: msg.stream, data: model });
}

function emptyData(): ProviderRawData {
  return new ProviderRaw().clone();
}

function flat(levels: unknown): string[] {
  return (levels as [string, string][]).flat();
}

/** Independent oracle: the ProviderRaw fields each model must decode to. */
function expectedOf(msg: Msg): ProviderRawData {
  const m = msg.model;
  const x = emptyData();
  x.provider = "binance";
  x.stream = msg.stream ?? "";
  x.symbol = m.s as string;
  switch (msg.shape) {
    case "trade":
      x.eventType = "trade";
      x.eventTimeMs = m.E as number;
      x.tradeId = String(m.t);
      x.lastId = m.t as number;
      x.price = m.p as string;
      x.qty = m.q as string;
      x.tradeTimeMs = m.T as number;
      x.buyerMaker = m.m as boolean;
      break;
    case "aggTrade":
      x.eventType = "aggTrade";
      x.eventTimeMs = m.E as number;
      x.tradeId = String(m.a);
      x.lastId = m.a as number;
      x.firstId = m.f as number;
      x.price = m.p as string;
      x.qty = m.q as string;
      x.tradeTimeMs = m.T as number;
      x.buyerMaker = m.m as boolean;
      break;
    case "depthUpdate":
      x.eventType = "depthUpdate";
      x.eventTimeMs = m.E as number;
      x.firstId = m.U as number;
      x.lastId = m.u as number;
      x.bids = flat(m.b);
      x.asks = flat(m.a);
      break;
    case "bookTicker":
      x.eventType = "bookTicker";
      x.lastId = m.u as number;
      x.bidPx = m.b as string;
      x.bidQty = m.B as string;
      x.askPx = m.a as string;
      x.askQty = m.A as string;
      break;
  }
  return x;
}

/** Decodes with the given path; the clone, or the thrown error. */
function decodeWith(text: string, specialised: boolean): ProviderRawData | DecodeError {
  const out = new ProviderRaw();
  try {
    decodeBinanceFrame(text, out, { specialised });
    return out.clone();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw new Error(`expected only DecodeError, found ${String(e)} for ${text}`, { cause: e });
  }
}

function mustDecode(text: string, specialised: boolean): ProviderRawData {
  const r = decodeWith(text, specialised);
  if (r instanceof DecodeError) throw new Error(`expected ${text} to decode, found ${r.message}`);
  return r;
}

/** Decodes through the default path and says which path ran (from the counters). */
function decodeTraced(text: string): { data: ProviderRawData; path: "specialised" | "generic" } {
  const before = binanceDecodeCounters.specialised;
  const data = mustDecode(text, true);
  return {
    data,
    path: binanceDecodeCounters.specialised === before + 1 ? "specialised" : "generic",
  };
}

const RUNS = 300;

// ---------------------------------------------------------------------------------------------

Deno.test("specialised path decodes canonical hot shapes exactly like the generic path", async (t) => {
  for (const shape of ["trade", "aggTrade", "depthUpdate", "bookTicker"] as const) {
    await t.step(shape, () => {
      fc.assert(
        fc.property(msgArb.filter((m) => m.shape === shape), (msg) => {
          const text = frameOf(msg);
          const fast = decodeTraced(text);
          const generic = mustDecode(text, false);
          assert.equal(fast.path, "specialised", `expected the specialised path for ${text}`);
          assert.deepEqual(fast.data, generic);
          assert.deepEqual(fast.data, expectedOf(msg));
        }),
        { numRuns: RUNS },
      );
    });
  }
});

Deno.test("decoded decimal strings are byte-identical slices of the frame", () => {
  fc.assert(
    fc.property(msgArb, (msg) => {
      const text = frameOf(msg);
      const d = mustDecode(text, true);
      for (
        const s of [d.price, d.qty, d.bidPx, d.bidQty, d.askPx, d.askQty, ...d.bids, ...d.asks]
      ) {
        if (s === "") continue;
        assert.ok(isDecimalString(s), `expected a decimal, found ${s}`);
        assert.ok(text.includes(`"${s}"`), `expected ${s} to appear verbatim in the frame`);
      }
    }),
    { numRuns: RUNS },
  );
});

Deno.test("any stream name (unicode, escapes, control characters) decodes exactly", () => {
  const nameArb = fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }),
    fc.constantFrom("btcusdt@trad\u00e9", "\u20ac@trade", "a\nb", 'q"uote', "back\\slash"),
  );
  fc.assert(
    fc.property(msgArb, nameArb, (m, stream) => {
      const msg: Msg = { ...m, stream };
      const r = decodeTraced(frameOf(msg));
      assert.deepEqual(r.data, expectedOf(msg));
      assert.deepEqual(mustDecode(frameOf(msg), false), r.data);
      if (!/^[\x20-\x7e]+$/.test(stream) || /["\\]/.test(stream)) assert.equal(r.path, "generic");
    }),
    { numRuns: RUNS },
  );
});

Deno.test("ids above 15 digits take the generic path and stay exact", () => {
  const bigId = fc.integer({ min: 1_000_000_000_000_000, max: Number.MAX_SAFE_INTEGER });
  fc.assert(
    fc.property(tradeArb, bigId, (model, t) => {
      const msg: Msg = { shape: "trade", model: { ...model, t }, stream: null };
      const r = decodeTraced(frameOf(msg));
      assert.equal(r.path, "generic");
      assert.deepEqual(r.data, expectedOf(msg));
      assert.equal(r.data.tradeId, String(t));
    }),
    { numRuns: 100 },
  );
});

Deno.test("ids beyond 2^53 are rejected, not rounded", () => {
  const text =
    '{"e":"trade","E":1,"s":"BTCUSDT","t":12345678901234567890,"p":"1","q":"1","T":1,"m":true}';
  const r = decodeWith(text, true);
  assert.ok(r instanceof DecodeError);
  assert.match(r.reason, /"t".*safe integer/);
});

// ---------------------------------------------------------------------------------------------
// Layout variants: valid JSON that the scanner must not accept as-is.

/** Reorders the model's keys (a permutation, possibly the identity). */
function reorderedArb(msg: Msg): fc.Arbitrary<Model> {
  const entries = Object.entries(msg.model);
  return fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })
    .map((es) => Object.fromEntries(es));
}

Deno.test("reordered keys decode to the same event (via the generic path)", () => {
  fc.assert(
    fc.property(msgArb.chain((m) => fc.tuple(fc.constant(m), reorderedArb(m))), ([msg, model]) => {
      const r = decodeTraced(frameOf(msg, model));
      assert.deepEqual(r.data, expectedOf(msg));
      const canonical =
        JSON.stringify(Object.keys(model)) === JSON.stringify(Object.keys(msg.model));
      if (!canonical) assert.equal(r.path, "generic");
    }),
    { numRuns: RUNS },
  );
});

const EXTRA_KEYS = ["x", "X", "extra", "pu", "B0", "w", "ignore"];

Deno.test("extra fields anywhere are ignored (via the generic path)", () => {
  const arb = msgArb.chain((m) =>
    fc.tuple(
      fc.constant(m),
      fc.constantFrom(...EXTRA_KEYS),
      fc.jsonValue({ maxDepth: 2 }),
      fc.nat({ max: Object.keys(m.model).length }),
    )
  );
  fc.assert(
    fc.property(arb, ([msg, key, value, at]) => {
      fc.pre(!(key in msg.model));
      const entries = Object.entries(msg.model);
      entries.splice(at, 0, [key, value]);
      const r = decodeTraced(frameOf(msg, Object.fromEntries(entries)));
      assert.deepEqual(r.data, expectedOf(msg));
      assert.equal(r.path, "generic");
    }),
    { numRuns: RUNS },
  );
});

Deno.test("old trade payloads with buyer/seller order ids still decode", () => {
  fc.assert(
    fc.property(tradeArb, idArb, idArb, (model, b, a) => {
      const { e, E, s, t, p, q, T, m, M } = model;
      const old = { e, E, s, t, p, q, b, a, T, m, M };
      const msg: Msg = { shape: "trade", model, stream: null };
      assert.deepEqual(decodeTraced(JSON.stringify(old)).data, expectedOf(msg));
    }),
    { numRuns: 100 },
  );
});

Deno.test("a missing optional M keeps the specialised path; a missing field falls back", () => {
  fc.assert(
    fc.property(msgArb, fc.nat(), (msg, pick) => {
      const keys = Object.keys(msg.model);
      const drop = keys[pick % keys.length];
      const model = { ...msg.model };
      delete model[drop];
      if (drop === "M") {
        const r = decodeTraced(frameOf(msg, model));
        assert.deepEqual(r.data, expectedOf(msg));
        assert.equal(r.path, "specialised");
        return;
      }
      const r = decodeWith(frameOf(msg, model), true);
      // Without a mapped field the frame is either rejected or (no `e`) no longer this shape.
      if (!(r instanceof DecodeError)) assert.notEqual(r.eventType, msg.shape);
    }),
    { numRuns: RUNS },
  );
});

Deno.test("whitespace between tokens decodes to the same event (via the generic path)", () => {
  const arb = fc.tuple(
    msgArb,
    fc.integer({ min: 1, max: 4 }),
    fc.constantFrom("", " ", "\n", "\t"),
  );
  fc.assert(
    fc.property(arb, ([msg, indent, edge]) => {
      const model = msg.stream === null ? msg.model : { stream: msg.stream, data: msg.model };
      const text = edge + JSON.stringify(model, null, indent) + edge;
      const r = decodeTraced(text);
      assert.deepEqual(r.data, expectedOf(msg));
      assert.equal(r.path, "generic");
    }),
    { numRuns: RUNS },
  );
});

/** `\uXXXX` for every character of `s` from `from` on, for `count` characters. */
function escapeRange(s: string, from: number, count: number): string {
  let out = s.slice(0, from);
  for (let i = from; i < Math.min(s.length, from + count); i++) {
    out += "\\u" + s.charCodeAt(i).toString(16).padStart(4, "0");
  }
  return out + s.slice(from + count);
}

Deno.test("escaped string contents decode to the unescaped value (via the generic path)", () => {
  const arb = msgArb.chain((m) => {
    const stringKeys = Object.keys(m.model).filter((k) => typeof m.model[k] === "string");
    if (m.stream !== null) stringKeys.push("stream");
    return fc.tuple(
      fc.constant(m),
      fc.constantFrom(...stringKeys),
      fc.nat(),
      fc.integer({ min: 1, max: 3 }),
    );
  });
  fc.assert(
    fc.property(arb, ([msg, key, from, count]) => {
      const text = frameOf(msg);
      const value = key === "stream" ? msg.stream! : msg.model[key] as string;
      const needle = `"${key}":"${value}"`;
      const at = text.indexOf(needle);
      assert.ok(at >= 0);
      const escaped = `"${key}":"${escapeRange(value, from % value.length, count)}"`;
      const variant = text.slice(0, at) + escaped + text.slice(at + needle.length);
      const r = decodeTraced(variant);
      assert.deepEqual(r.data, expectedOf(msg));
      assert.equal(r.path, "generic");
    }),
    { numRuns: RUNS },
  );
});

/** Writes integer `n` with an exponent or a zero fraction: the same value, another spelling. */
function respell(n: number, style: number): string {
  const s = String(n);
  switch (style % 3) {
    case 0:
      return s.length === 1 ? `${s}e0` : `${s[0]}.${s.slice(1)}e${s.length - 1}`;
    case 1:
      return `${s}.0`;
    default:
      return `${s}0E-1`;
  }
}

Deno.test("exponent or fraction spellings of integers never give a wrong event", () => {
  const arb = msgArb.chain((m) => {
    const intKeys = Object.keys(m.model).filter((k) => typeof m.model[k] === "number");
    return fc.tuple(fc.constant(m), fc.constantFrom(...intKeys), fc.nat());
  });
  fc.assert(
    fc.property(arb, ([msg, key, style]) => {
      const text = frameOf(msg);
      const n = msg.model[key] as number;
      const needle = `"${key}":${n}`;
      const at = text.indexOf(needle);
      assert.ok(at >= 0);
      const variant = text.slice(0, at) + `"${key}":${respell(n, style)}` +
        text.slice(at + needle.length);
      const r = decodeWith(variant, true);
      if (r instanceof DecodeError) return;
      assert.deepEqual(r, expectedOf(msg));
      assert.deepEqual(decodeWith(variant, false), r);
    }),
    { numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------------------------
// Malformed input: DecodeError and nothing else.

Deno.test("truncated frames throw DecodeError on both paths", () => {
  fc.assert(
    fc.property(msgArb, fc.nat(), (msg, cut) => {
      const text = frameOf(msg);
      const prefix = text.slice(0, cut % text.length);
      for (const specialised of [true, false]) {
        const r = decodeWith(prefix, specialised);
        assert.ok(r instanceof DecodeError, `expected DecodeError for ${prefix}`);
        assert.equal(r.provider, "binance");
        assert.equal(r.sample, prefix.slice(0, 120));
      }
    }),
    { numRuns: RUNS },
  );
});

const WRONG_VALUES: unknown[] = [null, true, "12", 1.5, -0.5, {}, [], "abc", 7, "1e5", " 1", ""];

function wrongFor(value: unknown): unknown[] {
  // Everything of another JSON type than the field's own (and malformed strings for decimals).
  if (typeof value === "number") return WRONG_VALUES.filter((w) => !Number.isSafeInteger(w));
  if (typeof value === "boolean") return WRONG_VALUES.filter((w) => typeof w !== "boolean");
  if (typeof value === "string") {
    return WRONG_VALUES.filter((w) => typeof w !== "string" || !isPlainDecimal(w) || w === "");
  }
  return [null, 5, "x", {}, [["1"]], [["1", "2", "3"]], [[1, "2"]], [["1", null]], ["1", "2"]];
}

Deno.test("a mapped field of the wrong type throws DecodeError naming the field", () => {
  const arb = msgArb.chain((m) => {
    const keys = Object.keys(m.model).filter((k) => k !== "M" && k !== "e");
    return fc.tuple(fc.constant(m), fc.constantFrom(...keys), fc.nat());
  });
  fc.assert(
    fc.property(arb, ([msg, key, pick]) => {
      const original = msg.model[key];
      const candidates = wrongFor(original);
      const wrong = candidates[pick % candidates.length];
      // Symbols are any non-empty string; only non-strings and "" are wrong for them.
      fc.pre(!(key === "s" && typeof wrong === "string" && wrong !== ""));
      const model = { ...msg.model, [key]: wrong };
      for (const specialised of [true, false]) {
        const r = decodeWith(frameOf(msg, model), specialised);
        assert.ok(
          r instanceof DecodeError,
          `expected DecodeError for ${key}=${JSON.stringify(wrong)}`,
        );
        assert.ok(r.reason.includes(`"${key}`), `expected the reason to name ${key}: ${r.reason}`);
      }
    }),
    { numRuns: RUNS },
  );
});

/** One random edit of a frame: replace, insert or delete a character. */
const editArb = fc.tuple(
  fc.constantFrom("replace", "insert", "delete"),
  fc.nat(),
  fc.constantFrom(...'{}[]",:0123456789.-eE tfnul\\ABx\n\u0001\u00e9'),
);

function applyEdit(text: string, [kind, at, ch]: [string, number, string]): string {
  const i = at % (text.length + 1);
  if (kind === "insert") return text.slice(0, i) + ch + text.slice(i);
  if (i === text.length) return text;
  if (kind === "delete") return text.slice(0, i) + text.slice(i + 1);
  return text.slice(0, i) + ch + text.slice(i + 1);
}

Deno.test("any edited frame gives the same outcome on both paths", () => {
  fc.assert(
    fc.property(msgArb, fc.array(editArb, { minLength: 1, maxLength: 3 }), (msg, edits) => {
      let text = frameOf(msg);
      for (const e of edits) text = applyEdit(text, e);
      const fast = decodeWith(text, true);
      const generic = decodeWith(text, false);
      if (fast instanceof DecodeError || generic instanceof DecodeError) {
        assert.ok(
          fast instanceof DecodeError && generic instanceof DecodeError,
          `paths disagree on ${text}`,
        );
        return;
      }
      assert.deepEqual(fast, generic);
      assert.notEqual(fast.eventType, "");
    }),
    { numRuns: 4000 },
  );
});

/** Every slot of a level store beyond its count holds "" (no stale level from earlier frames). */
function assertNoStaleLevels(raw: ProviderRaw, text: string): void {
  for (
    const [store, used] of [[raw.bidStore, raw.bidsLength], [raw.askStore, raw.asksLength]] as const
  ) {
    for (let i = used; i < store.length; i++) {
      assert.equal(store[i], "", `stale level at slot ${i} after ${text}`);
    }
  }
}

Deno.test("frames decoded into one reused target equal fresh decodes, on both paths", () => {
  const frameArb = fc.tuple(msgArb, fc.array(editArb, { maxLength: 2 })).map(([msg, edits]) => {
    let text = frameOf(msg);
    for (const e of edits) text = applyEdit(text, e);
    return text;
  });
  fc.assert(
    fc.property(fc.array(frameArb, { minLength: 2, maxLength: 8 }), (texts) => {
      const reused = { fast: new ProviderRaw(), generic: new ProviderRaw() };
      for (const text of texts) {
        for (const specialised of [true, false]) {
          const out = specialised ? reused.fast : reused.generic;
          const fresh = decodeWith(text, specialised);
          try {
            decodeBinanceFrame(text, out, { specialised });
          } catch (e) {
            assert.ok(e instanceof DecodeError && fresh instanceof DecodeError, `${text}`);
            out.reset(); // contents unspecified after a throw: what the adapter does
            continue;
          }
          assert.deepEqual(out.clone(), fresh, `reused target differs on ${text}`);
          assertNoStaleLevels(out, text);
        }
        assert.deepEqual(reused.fast.clone(), reused.generic.clone());
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("random text decodes or throws DecodeError, identically on both paths", () => {
  const textArb = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.json({ maxDepth: 3 }),
    fc.string({ unit: fc.constantFrom(...'{}[]",:0123456789.-eE tfnulsrma\\'), maxLength: 80 }),
  );
  fc.assert(
    fc.property(textArb, (text) => {
      const fast = decodeWith(text, true);
      const generic = decodeWith(text, false);
      if (fast instanceof DecodeError) {
        assert.ok(generic instanceof DecodeError);
        return;
      }
      assert.deepEqual(fast, generic);
      assert.notEqual(fast.eventType, "");
      assert.equal(fast.provider, "binance");
    }),
    { numRuns: 2000 },
  );
});

Deno.test("isPlainDecimal agrees with the schema's isDecimalString", () => {
  const arb = fc.oneof(
    decimalArb,
    fc.string({ unit: fc.constantFrom(..."0123456789.-e+ "), maxLength: 70 }),
    fc.string({ maxLength: 10 }),
  );
  fc.assert(
    fc.property(arb, (s) => {
      assert.equal(isPlainDecimal(s), isDecimalString(s), JSON.stringify(s));
    }),
    { numRuns: 2000 },
  );
});
