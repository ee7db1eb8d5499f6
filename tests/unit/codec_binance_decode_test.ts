/**
 * Example-based tests of decodeBinanceFrame: the protocol reference's examples decode to the
 * exact fields, every shape and tag, reuse of a pooled target, error details, and the real
 * recorded frames in ../shared/data/recordings (skipped with a message when absent).
 */

import assert from "node:assert/strict";
import {
  binanceDecodeCounters,
  decodeBinanceFrame,
  DecodeError,
  FRAME_BYTES_MAX,
  type JsonEngine,
  loadSimdjsonEngine,
} from "../../src/codec/mod.ts";
import { ProviderRaw, type ProviderRawData } from "../../src/schema/provider_raw.ts";

function expected(fields: Partial<ProviderRawData>): ProviderRawData {
  return { ...new ProviderRaw().clone(), provider: "binance", ...fields };
}

/** Decodes on both paths, asserts they agree, returns the clone. */
function decodeBoth(text: string, engine?: JsonEngine): ProviderRawData {
  const a = new ProviderRaw();
  const b = new ProviderRaw();
  decodeBinanceFrame(text, a, { engine });
  decodeBinanceFrame(text, b, { engine, specialised: false });
  assert.deepEqual(a.clone(), b.clone());
  return a.clone();
}

function decodeError(text: string, specialised = true): DecodeError {
  try {
    decodeBinanceFrame(text, new ProviderRaw(), { specialised });
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error(`expected DecodeError for ${text}, found a decoded event`);
}

// The examples of shared/protocols/binance.md §1.2-1.4, verbatim.
const DOC = {
  trade:
    '{"e":"trade","E":1767225600123,"s":"BTCUSDT","t":5012345678,"p":"87250.01000000","q":"0.00120000","T":1767225600121,"m":false,"M":true}',
  aggTrade:
    '{"e":"aggTrade","E":1767225600130,"s":"BTCUSDT","a":3300001,"p":"87250.01000000","q":"0.05000000","f":5012345670,"l":5012345678,"T":1767225600121,"m":false,"M":true}',
  depthUpdate: '{"e":"depthUpdate","E":1767225600200,"s":"BTCUSDT","U":71234501,"u":71234507,\n' +
    ' "b":[["87250.00000000","1.20500000"],["87249.50000000","0.00000000"]],\n' +
    ' "a":[["87250.01000000","0.31000000"]]}',
  depthPartial:
    '{"lastUpdateId":71234507,"bids":[["87250.00000000","1.20500000"],["87249.00000000","0.80000000"]],"asks":[["87250.01000000","0.31000000"],["87251.00000000","2.00000000"]]}',
  bookTicker:
    '{"u":71234507,"s":"BTCUSDT","b":"87250.00000000","B":"1.20500000","a":"87250.01000000","A":"0.31000000"}',
  ticker:
    '{"e":"24hrTicker","E":1767225601000,"s":"BTCUSDT","p":"-512.30000000","P":"-0.584","w":"87511.22000000","x":"87762.31000000","c":"87250.01000000","Q":"0.00120000","b":"87250.00000000","B":"1.20500000","a":"87250.01000000","A":"0.31000000","o":"87762.31000000","h":"88410.00000000","l":"86900.00000000","v":"15234.11200000","q":"1333118830.51000000","O":1767139201000,"C":1767225601000,"F":5011000000,"L":5012345678,"n":1345679}',
  miniTicker:
    '{"e":"24hrMiniTicker","E":1767225601000,"s":"BTCUSDT","c":"87250.01000000","o":"87762.31000000","h":"88410.00000000","l":"86900.00000000","v":"15234.11200000","q":"1333118830.51000000"}',
  kline:
    '{"e":"kline","E":1767225602000,"s":"BTCUSDT","k":{"t":1767225600000,"T":1767225659999,"s":"BTCUSDT","i":"1m","f":5012345600,"L":5012345678,"o":"87260.00000000","c":"87250.01000000","h":"87262.00000000","l":"87249.00000000","v":"3.41200000","n":79,"x":false,"q":"297712.44000000","V":"1.50000000","Q":"130880.00000000","B":"0"}}',
  shutdown: '{"e":"serverShutdown","E":1770123456789}',
  shutdownWrapped: '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}',
  error: '{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":1}',
};

Deno.test("the protocol reference's examples decode to the exact fields", async (t) => {
  await t.step("trade", () => {
    assert.deepEqual(
      decodeBoth(DOC.trade),
      expected({
        eventType: "trade",
        symbol: "BTCUSDT",
        eventTimeMs: 1767225600123,
        tradeId: "5012345678",
        lastId: 5012345678,
        price: "87250.01000000",
        qty: "0.00120000",
        tradeTimeMs: 1767225600121,
        buyerMaker: false,
      }),
    );
  });
  await t.step("aggTrade", () => {
    assert.deepEqual(
      decodeBoth(DOC.aggTrade),
      expected({
        eventType: "aggTrade",
        symbol: "BTCUSDT",
        eventTimeMs: 1767225600130,
        tradeId: "3300001",
        lastId: 3300001,
        firstId: 5012345670,
        price: "87250.01000000",
        qty: "0.05000000",
        tradeTimeMs: 1767225600121,
        buyerMaker: false,
      }),
    );
  });
  await t.step("depthUpdate (multi-line as printed)", () => {
    assert.deepEqual(
      decodeBoth(DOC.depthUpdate),
      expected({
        eventType: "depthUpdate",
        symbol: "BTCUSDT",
        eventTimeMs: 1767225600200,
        firstId: 71234501,
        lastId: 71234507,
        bids: ["87250.00000000", "1.20500000", "87249.50000000", "0.00000000"],
        asks: ["87250.01000000", "0.31000000"],
      }),
    );
  });
  await t.step("partial depth, raw and wrapped", () => {
    const fields = {
      eventType: "depthPartial",
      lastId: 71234507,
      bids: ["87250.00000000", "1.20500000", "87249.00000000", "0.80000000"],
      asks: ["87250.01000000", "0.31000000", "87251.00000000", "2.00000000"],
    };
    assert.deepEqual(decodeBoth(DOC.depthPartial), expected(fields));
    const wrapped = `{"stream":"btcusdt@depth5@100ms","data":${DOC.depthPartial}}`;
    assert.deepEqual(
      decodeBoth(wrapped),
      expected({ ...fields, stream: "btcusdt@depth5@100ms", symbol: "BTCUSDT" }),
    );
  });
  await t.step("bookTicker", () => {
    assert.deepEqual(
      decodeBoth(DOC.bookTicker),
      expected({
        eventType: "bookTicker",
        symbol: "BTCUSDT",
        lastId: 71234507,
        bidPx: "87250.00000000",
        bidQty: "1.20500000",
        askPx: "87250.01000000",
        askQty: "0.31000000",
      }),
    );
  });
  await t.step("24hrTicker", () => {
    assert.deepEqual(
      decodeBoth(DOC.ticker),
      expected({
        eventType: "24hrTicker",
        symbol: "BTCUSDT",
        eventTimeMs: 1767225601000,
        close: "87250.01000000",
        qty: "0.00120000",
        bidPx: "87250.00000000",
        bidQty: "1.20500000",
        askPx: "87250.01000000",
        askQty: "0.31000000",
        open: "87762.31000000",
        high: "88410.00000000",
        low: "86900.00000000",
        volume: "15234.11200000",
        quoteVolume: "1333118830.51000000",
        openTimeMs: 1767139201000,
        closeTimeMs: 1767225601000,
        firstId: 5011000000,
        lastId: 5012345678,
        tradeCount: 1345679,
      }),
    );
  });
  await t.step("24hrMiniTicker", () => {
    assert.deepEqual(
      decodeBoth(DOC.miniTicker),
      expected({
        eventType: "24hrMiniTicker",
        symbol: "BTCUSDT",
        eventTimeMs: 1767225601000,
        close: "87250.01000000",
        open: "87762.31000000",
        high: "88410.00000000",
        low: "86900.00000000",
        volume: "15234.11200000",
        quoteVolume: "1333118830.51000000",
      }),
    );
  });
  await t.step("kline", () => {
    assert.deepEqual(
      decodeBoth(DOC.kline),
      expected({
        eventType: "kline",
        symbol: "BTCUSDT",
        eventTimeMs: 1767225602000,
        openTimeMs: 1767225600000,
        closeTimeMs: 1767225659999,
        interval: "1m",
        firstId: 5012345600,
        lastId: 5012345678,
        open: "87260.00000000",
        close: "87250.01000000",
        high: "87262.00000000",
        low: "87249.00000000",
        volume: "3.41200000",
        quoteVolume: "297712.44000000",
        tradeCount: 79,
        closed: false,
      }),
    );
  });
  await t.step("serverShutdown, raw and wrapped", () => {
    const fields = { eventType: "serverShutdown", eventTimeMs: 1770123456789 };
    assert.deepEqual(decodeBoth(DOC.shutdown), expected(fields));
    assert.deepEqual(
      decodeBoth(DOC.shutdownWrapped),
      expected({ ...fields, stream: "!serverShutdown" }),
    );
  });
  await t.step("control results", () => {
    for (
      const text of [
        '{"result":null,"id":1}',
        '{"result":["btcusdt@aggTrade"],"id":3}',
        '{"result":true,"id":5}',
        '{"result":null,"id":"abc-123"}',
      ]
    ) {
      assert.deepEqual(
        decodeBoth(text),
        expected({ eventType: "result", body: JSON.parse(text) }),
      );
    }
  });
  await t.step("control error", () => {
    assert.deepEqual(
      decodeBoth(DOC.error),
      expected({ eventType: "error", body: JSON.parse(DOC.error) }),
    );
  });
});

Deno.test("unknown events and payloads are kept whole, not rejected", async (t) => {
  await t.step("unknown e value", () => {
    const text =
      '{"e":"avgPrice","E":1767225601000,"s":"BTCUSDT","i":"5m","w":"87250.1","T":1767225600999}';
    assert.deepEqual(
      decodeBoth(text),
      expected({
        eventType: "avgPrice",
        symbol: "BTCUSDT",
        eventTimeMs: 1767225601000,
        body: JSON.parse(text),
      }),
    );
  });
  await t.step("array payload (!miniTicker@arr)", () => {
    const text = `{"stream":"!miniTicker@arr","data":[${DOC.miniTicker}]}`;
    assert.deepEqual(
      decodeBoth(text),
      expected({
        eventType: "array",
        stream: "!miniTicker@arr",
        body: [JSON.parse(DOC.miniTicker)],
      }),
    );
  });
  await t.step("object of no known shape", () => {
    assert.deepEqual(decodeBoth('{"x":1}'), expected({ eventType: "unknown", body: { x: 1 } }));
  });
  await t.step("kline without trades (f = L = -1)", () => {
    const text = DOC.kline.replace('"f":5012345600,"L":5012345678', '"f":-1,"L":-1');
    const d = decodeBoth(text);
    assert.equal(d.firstId, -1);
    assert.equal(d.lastId, -1);
  });
});

Deno.test("a reused target carries nothing over from the previous frame", () => {
  const out = new ProviderRaw();
  const bidStore = out.bidStore;
  out.recvTsMs = 1234.5;
  for (const text of [DOC.depthUpdate, DOC.trade, DOC.kline, DOC.error, DOC.bookTicker]) {
    decodeBinanceFrame(text, out);
    const fresh = new ProviderRaw();
    fresh.recvTsMs = 1234.5;
    decodeBinanceFrame(text, fresh);
    assert.deepEqual(out.clone(), fresh.clone());
  }
  assert.equal(out.bidStore, bidStore, "expected the bid storage to keep its identity");
  assert.equal(out.recvTsMs, 1234.5, "expected recvTsMs to be left to the adapter");
});

Deno.test("a reused target keeps its level storage and leaves no stale level in it", () => {
  const out = new ProviderRaw();
  const c = binanceDecodeCounters;
  const compact = DOC.depthUpdate.replace(/\n ?/g, "");
  const specialisedBefore = c.specialised;
  decodeBinanceFrame(compact, out);
  assert.equal(c.specialised, specialisedBefore + 1, "expected the scanner to take the frame");
  assert.equal(out.bidsLength, 4);
  assert.equal(out.asksLength, 2);
  const bidStore = out.bidStore;

  // The scanner appends one bid, then abandons at the space; the generic path decodes it.
  const fallbackBefore = c.fallback;
  decodeBinanceFrame(
    '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.5","2"]] ,"a":[]}',
    out,
  );
  assert.equal(c.fallback, fallbackBefore + 1, "expected the scanner to abandon the frame");
  assert.deepEqual(out.clone().bids, ["1.5", "2"]);
  assert.deepEqual(out.clone().asks, []);
  assert.equal(out.bidStore, bidStore);
  assert.ok(out.bidStore.slice(2).every((v) => v === ""), "stale bid levels left in storage");
  assert.ok(out.askStore.every((v) => v === ""), "stale ask levels left in storage");

  decodeBinanceFrame(DOC.trade, out);
  assert.equal(out.bidsLength + out.asksLength, 0);
  assert.ok(out.bidStore.length >= 4, "expected the bid storage to be kept");
  assert.ok(out.bidStore.every((v) => v === ""), "a trade frame left book levels in storage");
});

Deno.test("the counters say which path ran", () => {
  const c = binanceDecodeCounters;
  const before = { ...c };
  decodeBinanceFrame(DOC.trade, new ProviderRaw());
  assert.equal(c.specialised, before.specialised + 1);
  decodeBinanceFrame(DOC.kline, new ProviderRaw());
  assert.equal(c.generic, before.generic + 1);
  assert.equal(c.fallback, before.fallback);
  decodeBinanceFrame(DOC.depthUpdate, new ProviderRaw()); // newlines: scanner abandons
  assert.equal(c.fallback, before.fallback + 1);
  assert.equal(c.generic, before.generic + 2);
  assert.throws(() => decodeBinanceFrame("{", new ProviderRaw()), DecodeError);
  assert.equal(c.errors, before.errors + 1);
});

Deno.test("DecodeError carries provider, reason, offset and a bounded sample", async (t) => {
  await t.step("invalid JSON", () => {
    const long = DOC.trade.slice(0, -1) + ',"pad":"' + "x".repeat(300) + '"';
    const e = decodeError(long);
    assert.equal(e.provider, "binance");
    assert.match(e.reason, /^expected a JSON text, found invalid JSON \(v8-json: /);
    assert.equal(typeof e.offset, "number");
    assert.equal(e.sample, long.slice(0, 120));
    assert.match(e.message, /^binance frame not decodable at offset \d+: expected/);
  });
  await t.step("non-message top-level values", () => {
    for (const text of ["5", '"trade"', "null", "true"]) {
      assert.match(decodeError(text).reason, /^expected a JSON object or array, found /);
    }
  });
  await t.step("wrapper problems", () => {
    assert.match(decodeError('{"stream":"a@trade"}').reason, /"data"/);
    assert.match(decodeError('{"stream":5,"data":{}}').reason, /"stream"/);
    assert.match(decodeError('{"stream":"","data":{}}').reason, /"stream"/);
  });
  await t.step("event name problems", () => {
    assert.match(decodeError('{"e":5,"E":1}').reason, /"e" to be a non-empty string, found number/);
    assert.match(decodeError('{"e":"","E":1}').reason, /"e"/);
  });
  await t.step("malformed control error", () => {
    assert.match(decodeError('{"error":"bad","id":1}').reason, /"error"/);
    assert.match(decodeError('{"error":{"code":"2","msg":"x"},"id":1}').reason, /"error.code"/);
  });
  await t.step("kline without k", () => {
    assert.match(decodeError('{"e":"kline","E":1,"s":"BTCUSDT"}').reason, /"k" to be an object/);
  });
});

Deno.test("bounds of the scanner: digits, decimal length, leading zeros", async (t) => {
  await t.step("a 16-digit safe id decodes exactly through the generic path", () => {
    const text = DOC.trade.replace('"t":5012345678', '"t":9007199254740991');
    const before = binanceDecodeCounters.specialised;
    const d = decodeBoth(text);
    assert.equal(d.tradeId, "9007199254740991");
    assert.equal(binanceDecodeCounters.specialised, before, "expected the generic path");
  });
  await t.step("decimals up to 64 characters, not more", () => {
    const ok = "1." + "0".repeat(62);
    assert.equal(decodeBoth(DOC.trade.replace('"87250.01000000"', `"${ok}"`)).price, ok);
    const tooLong = "1." + "0".repeat(63);
    for (const specialised of [true, false]) {
      const e = decodeError(DOC.trade.replace('"87250.01000000"', `"${tooLong}"`), specialised);
      assert.match(e.reason, /"p" to be a decimal string/);
    }
  });
  await t.step("leading zeros are invalid JSON on both paths", () => {
    for (const specialised of [true, false]) {
      decodeError(DOC.trade.replace('"t":5012345678', '"t":05012345678'), specialised);
    }
  });
  await t.step("symbols outside [A-Z0-9] are kept via the generic path", () => {
    const d = decodeBoth(DOC.trade.replace('"BTCUSDT"', '"1000SHIB-USDT_x"'));
    assert.equal(d.symbol, "1000SHIB-USDT_x");
  });
});

Deno.test("large frames: the scanner's buffer grows; beyond its bound the generic path runs", () => {
  function depth(levels: number): string {
    const side = Array.from({ length: levels }, (_, i) => `["${i}.50000000","1.00000000"]`);
    return `{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[${side}],"a":[${side}]}`;
  }
  for (const levels of [1_000, 40_000]) {
    const text = depth(levels);
    const before = binanceDecodeCounters.specialised;
    const d = decodeBoth(text);
    assert.equal(d.bids.length, levels * 2);
    assert.equal(d.asks[d.asks.length - 2], `${levels - 1}.50000000`);
    const viaScanner = binanceDecodeCounters.specialised - before === 1;
    assert.equal(viaScanner, text.length <= FRAME_BYTES_MAX, `${text.length} chars`);
  }
  // A short frame after the long ones still decodes exactly (no stale bytes read).
  assert.equal(decodeBoth(DOC.bookTicker).askQty, "0.31000000");
});

Deno.test("an engine's own error becomes DecodeError, whatever it throws", () => {
  const throwing: JsonEngine = {
    name: "simdjson",
    parse() {
      throw "not an Error";
    },
  };
  const out = new ProviderRaw();
  assert.throws(
    () => decodeBinanceFrame(DOC.kline, out, { engine: throwing }),
    (e: unknown) => e instanceof DecodeError && /simdjson: not an Error/.test(e.reason),
  );
});

Deno.test("the simdjson engine (when available) decodes every example like V8", async () => {
  const { engine, status } = await loadSimdjsonEngine();
  if (!engine) {
    console.log(`simdjson unavailable (${status.reason}): generic path checked with V8 only`);
    return;
  }
  for (const text of Object.values(DOC)) {
    const viaSimd = new ProviderRaw();
    decodeBinanceFrame(text, viaSimd, { engine, specialised: false });
    assert.deepEqual(viaSimd.clone(), decodeBoth(text));
  }
});

// ---------------------------------------------------------------------------------------------
// Real frames recorded from Binance (2021-10-12), read from ../shared; never copied here.

const RECORDING_URL = new URL(
  "../../../shared/data/recordings/binance_spot_ws_2021-10-12.txt",
  import.meta.url,
);

function readRecording(): string | null {
  try {
    return Deno.readTextFileSync(RECORDING_URL);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

const recording = readRecording();
if (recording === null) {
  console.warn(
    `SKIP codec recording test: ${RECORDING_URL.pathname} absent (expected beside the project)`,
  );
}

/** Frames of the recording: lines after the URL line, `<unix-time>: <frame>`. */
function recordedFrames(text: string): string[] {
  const lines = text.split("\n").slice(1).filter((l) => l.trim() !== "");
  return lines.map((line) => {
    const at = line.indexOf(": ");
    assert.ok(at > 0, `expected "<time>: <frame>", found ${line.slice(0, 40)}`);
    return line.slice(at + 2);
  });
}

Deno.test({
  name: "every recorded Binance frame decodes, hot shapes on the specialised path",
  ignore: recording === null,
  fn() {
    const frames = recordedFrames(recording!);
    assert.ok(frames.length > 200, `expected the full recording, found ${frames.length} frames`);
    const byType = new Map<string, number>();
    let hot = 0;
    const before = binanceDecodeCounters.specialised;
    for (const text of frames) {
      const out = new ProviderRaw();
      decodeBinanceFrame(text, out);
      const generic = new ProviderRaw();
      decodeBinanceFrame(text, generic, { specialised: false });
      assert.deepEqual(out.clone(), generic.clone());
      assert.notEqual(out.symbol, "");
      assert.ok(out.stream.startsWith(out.symbol.toLowerCase() + "@"), out.stream);
      byType.set(out.eventType, (byType.get(out.eventType) ?? 0) + 1);
      if (["trade", "aggTrade", "depthUpdate", "bookTicker"].includes(out.eventType)) hot++;
    }
    assert.equal(binanceDecodeCounters.specialised - before, hot);
    assert.deepEqual(
      [...byType.keys()].sort(),
      ["aggTrade", "bookTicker", "depthUpdate", "kline"],
    );
  },
});
