import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CanonicalEvent,
  type CanonicalEventData,
  eventFromWire,
  eventId,
  eventToWire,
  type ExecReportData,
  execReportFromWire,
  execReportToWire,
  type MergedEventData,
  mergedFromWire,
  mergedToWire,
  messageFromWire,
  SCHEMA_VERSION,
  validateCanonicalEvent,
  validateExecReport,
  validateMergedEvent,
  WireFormatError,
} from "../../src/schema/mod.ts";
import { SchemaValidators } from "../support/schema_json_schema.ts";
import {
  eventData,
  sampleBookUpdate,
  sampleEvents,
  sampleExecReport,
  sampleKline,
  sampleMerged,
  sampleTicker,
  sampleTrade,
} from "../support/schema_samples.ts";

const schemas = new SchemaValidators();

/** Through JSON text and back, as a client sees it (test code: raw JSON is fine here). */
function viaJson<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** Runs `fn`, expecting a WireFormatError with `code` whose message matches `pattern`. */
function assertWireError(fn: () => unknown, code: string, pattern: RegExp): WireFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof WireFormatError, `expected a WireFormatError, found ${caught}`);
  assert.strictEqual(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  assert.doesNotMatch(caught.message, /\.$/);
  return caught;
}

// ---- arbitraries -----------------------------------------------------------------------------

const provider = fc.constantFrom("binance", "okx", "kraken", "sim_x-1");
const symbol = fc.stringMatching(/^[A-Z0-9]{1,6}-[A-Z0-9]{1,6}$/);
const decimal = fc.stringMatching(/^-?[0-9]{1,12}(\.[0-9]{1,12})?$/);
const decimalOrEmpty = fc.oneof(decimal, fc.constant(""));
const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const timestamp = fc.double({ min: 0, max: 4e12, noNaN: true, noDefaultInfinity: true })
  .map((x) => (x === 0 ? 0 : x)); // -0 has no JSON form distinct from 0
const levels = fc.array(fc.tuple(decimal, decimal), { maxLength: 20 }).map((pairs) => pairs.flat());

const header = fc.record({
  provider,
  symbol,
  seq,
  seqFirst: seq,
  exchangeTsMs: timestamp,
  recvTsMs: timestamp,
});

const tradeArb = fc.record({
  h: header,
  tradeId: fc.string({ maxLength: 24 }),
  price: decimal,
  qty: decimal,
  side: fc.constantFrom("buy" as const, "sell" as const),
}).map(({ h, ...rest }) => eventData({ kind: "trade", ...h, ...rest }));

const bookArb = fc.record({
  h: header,
  kind: fc.constantFrom("book_snapshot" as const, "book_update" as const),
  bids: levels,
  asks: levels,
}).map(({ h, ...rest }) => eventData({ ...h, ...rest }));

const tickerArb = fc.record({
  h: header,
  bidPx: decimalOrEmpty,
  bidQty: decimalOrEmpty,
  askPx: decimalOrEmpty,
  askQty: decimalOrEmpty,
  price: decimalOrEmpty,
  qty: decimalOrEmpty,
  open: decimalOrEmpty,
  high: decimalOrEmpty,
  low: decimalOrEmpty,
  volume: decimalOrEmpty,
  quoteVolume: decimalOrEmpty,
}).map(({ h, ...rest }) => eventData({ kind: "ticker", ...h, ...rest }));

const klineArb = fc.record({
  h: header,
  interval: fc.constantFrom("1s", "1m", "5m", "15m", "1h", "4h", "1d", "1w", "1M", "21600m"),
  openTimeMs: timestamp,
  closeTimeMs: timestamp,
  open: decimal,
  high: decimal,
  low: decimal,
  price: decimal,
  volume: decimalOrEmpty,
  quoteVolume: decimalOrEmpty,
  tradeCount: seq,
  closed: fc.boolean(),
}).map(({ h, ...rest }) => eventData({ kind: "kline", ...h, ...rest }));

const eventArbs = { trade: tradeArb, book: bookArb, ticker: tickerArb, kline: klineArb };

// ---- events ----------------------------------------------------------------------------------

for (const [name, arb] of Object.entries(eventArbs)) {
  Deno.test(`wire event round trip (${name}): data -> wire -> data is exact and schema-valid`, () => {
    fc.assert(
      fc.property(arb, (e) => {
        assert.strictEqual(validateCanonicalEvent(e), null);
        const wire = eventToWire(e);
        assert.deepStrictEqual(eventFromWire(wire), e);
        const text = viaJson(wire);
        assert.deepStrictEqual(eventFromWire(text), e);
        schemas.assertValid("event", text);
        schemas.assertDocumented("event", text);
      }),
      { numRuns: 200 },
    );
  });
}

Deno.test("wire event: a trade looks as documented", () => {
  assert.deepStrictEqual(eventToWire(sampleTrade()), {
    v: SCHEMA_VERSION,
    type: "event",
    kind: "trade",
    id: "binance:BTC-USDT:trade:12345",
    provider: "binance",
    symbol: "BTC-USDT",
    seq: 12345,
    ts_exchange: 1767225600123,
    ts_recv: 1767225600125.25,
    trade_id: "12345",
    price: "87250.01000000",
    qty: "0.00100000",
    side: "sell",
  });
});

Deno.test("wire event: book levels become [price, qty] pairs and seq_first appears for diffs", () => {
  const wire = eventToWire(sampleBookUpdate());
  assert.ok(wire.kind === "book_update");
  assert.deepStrictEqual(wire.bids, [["87250.00", "1.5"], ["87249.99", "0"]]);
  assert.deepStrictEqual(wire.asks, [["87250.01", "0.25"]]);
  assert.strictEqual(wire.seq_first, 100);
  assert.strictEqual("seq_first" in eventToWire(sampleTrade()), false);
});

Deno.test("wire event: only the kind's own fields are on the wire", () => {
  const ticker = eventToWire(sampleTicker()) as unknown as Record<string, unknown>;
  for (const foreign of ["bids", "asks", "trade_id", "interval", "closed", "price"]) {
    assert.strictEqual(foreign in ticker, false, foreign);
  }
  const kline = eventToWire(sampleKline()) as unknown as Record<string, unknown>;
  assert.strictEqual(kline.close, "87250.01");
  assert.strictEqual(kline.trades, 321);
  assert.strictEqual("last" in kline, false);
});

Deno.test("wire event: eventId is provider:symbol:kind:seq", () => {
  assert.strictEqual(eventId(sampleKline()), "binance:BTC-USDT:kline:7");
});

Deno.test("wire event: parsing into a pooled event reuses its level storage and clears old fields", async (t) => {
  const pooled = new CanonicalEvent().copyFrom(sampleBookUpdate());
  const store = pooled.bidStore;
  await t.step("a trade into a former book event: levels cleared, storage kept", () => {
    assert.strictEqual(eventFromWire(eventToWire(sampleTrade()), { into: pooled }), pooled);
    assert.strictEqual(pooled.bidStore, store);
    assert.strictEqual(pooled.bidsLength, 0);
    assert.deepStrictEqual(pooled.clone(), sampleTrade());
  });
  await t.step("a book event: levels written within the counts", () => {
    eventFromWire(eventToWire(sampleBookUpdate()), { into: pooled });
    assert.strictEqual(pooled.bidStore, store);
    assert.deepStrictEqual(pooled.clone(), sampleBookUpdate());
  });
});

Deno.test("wire event: eventToWire refuses an event without a kind", () => {
  assert.throws(() => eventToWire(eventData({})), /expected a market event kind, found ""/);
});

Deno.test("wire event: bad messages fail with the field, what was expected and found", async (t) => {
  const good = () => viaJson(eventToWire(sampleTrade())) as Record<string, unknown>;
  const book = () => viaJson(eventToWire(sampleBookUpdate())) as Record<string, unknown>;
  const cases: [string, unknown, string, RegExp][] = [
    ["not an object", [1, 2], "not_an_object", /event: expected a JSON object, found an array/],
    ["wrong version", { ...good(), v: 2 }, "bad_version", /event: expected v 1, found 2/],
    ["no version", { ...good(), v: undefined }, "bad_version", /expected v 1, found none/],
    ["wrong type", { ...good(), type: "merged" }, "unknown_type", /expected type "event"/],
    [
      "missing price",
      { ...good(), price: undefined },
      "missing_field",
      /event: expected field "price" \(a decimal string such as "0.001"\), found none/,
    ],
    [
      "price as a number",
      { ...good(), price: 87250.01 },
      "invalid_field",
      /expected field "price" to be a decimal string.*found 87250.01/,
    ],
    [
      "unknown kind",
      { ...good(), kind: "funding" },
      "invalid_field",
      /expected field "kind" to be one of trade, book_snapshot.*found "funding"/,
    ],
    [
      "id not matching the fields",
      { ...good(), id: "binance:BTC-USDT:trade:1" },
      "invalid_field",
      /expected field "id" to be "binance:BTC-USDT:trade:12345"/,
    ],
    [
      "negative seq",
      { ...good(), seq: -1 },
      "invalid_field",
      /expected field "seq" to be a non-negative integer, found -1/,
    ],
    [
      "level of three values",
      { ...book(), bids: [["1", "2", "3"]] },
      "invalid_field",
      /expected field "bids\[0\]" to be a \[price, qty\] pair of decimal strings/,
    ],
    [
      "level with a float",
      { ...book(), asks: [["1", 2]] },
      "invalid_field",
      /"asks\[0\]"/,
    ],
    [
      "long string is cut in the message",
      { ...good(), symbol: "X".repeat(200) },
      "invalid_field",
      /found "X{48}\.\.\." \(200 chars\)/,
    ],
  ];
  for (const [name, value, code, pattern] of cases) {
    await t.step(name, () => {
      assertWireError(() => eventFromWire(value), code, pattern);
      // The id is derived from other fields: a cross-field rule JSON Schema cannot state.
      if (name !== "id not matching the fields") {
        schemas.assertInvalid("event", JSON.parse(JSON.stringify(value) ?? "null"));
      }
    });
  }
});

Deno.test("wire event: unknown fields are ignored (additive changes keep v)", () => {
  const wire = { ...(viaJson(eventToWire(sampleTrade())) as object), maker_order_id: "42" };
  assert.deepStrictEqual(eventFromWire(wire), sampleTrade());
  schemas.assertValid("event", wire);
});

// ---- merged ----------------------------------------------------------------------------------

const fragmentArbByKind = {
  trade: tradeArb,
  book_update: bookArb.map((e) => ({ ...e, kind: "book_update" as const })),
  ticker: tickerArb,
  kline: klineArb,
};

const mergedArb = fc.constantFrom("trade", "book_update", "ticker", "kline" as const).chain((
  kind,
) =>
  fc.record({
    providers: fc.uniqueArray(provider, { minLength: 1, maxLength: 4 }),
    missingCount: fc.nat(),
    symbol,
    mergeId: fc.stringMatching(/^[!-~]{1,64}$/),
    routingVersion: seq,
    windowOpenMs: fc.integer({ min: 0, max: 4e12 }),
    windowLengthMs: fc.integer({ min: 0, max: 60000 }),
    closeReason: fc.constantFrom("time" as const, "count" as const),
    fragments: fc.array(fc.tuple(fc.nat(), fragmentArbByKind[kind]), {
      minLength: 1,
      maxLength: 8,
    }),
  }).map((r): MergedEventData => {
    // Fragments come from the providers not missing and share the event's kind and symbol.
    const missingCount = r.missingCount % r.providers.length;
    const present = r.providers.slice(0, r.providers.length - missingCount);
    return {
      mergeId: r.mergeId,
      routingVersion: r.routingVersion,
      kind,
      symbol: r.symbol,
      providers: r.providers,
      missing: r.providers.slice(present.length),
      windowOpenMs: r.windowOpenMs,
      windowCloseMs: r.windowOpenMs + r.windowLengthMs,
      closeReason: r.closeReason,
      fragments: r.fragments.map(([i, e]) => ({
        ...e,
        provider: present[i % present.length],
        symbol: r.symbol,
      })),
    };
  })
);

Deno.test("wire merged round trip: data -> wire -> data is exact and schema-valid", () => {
  fc.assert(
    fc.property(mergedArb, (m) => {
      assert.strictEqual(validateMergedEvent(m), null);
      const text = viaJson(mergedToWire(m));
      assert.deepStrictEqual(mergedFromWire(text), m);
      schemas.assertValid("merged", text);
      schemas.assertDocumented("merged", text);
    }),
    { numRuns: 150 },
  );
});

Deno.test("wire merged: fragments are full event messages", () => {
  const wire = mergedToWire(sampleMerged());
  assert.strictEqual(wire.fragments.length, 2);
  assert.strictEqual(wire.fragments[1].id, "okx:BTC-USDT:trade:918273645");
  schemas.assertValid("event", viaJson(wire.fragments[0]));
  assert.deepStrictEqual(
    { merge_id: wire.merge_id, routing_version: wire.routing_version, close: wire.window_close },
    { merge_id: "m-1767225600000-1", routing_version: 3, close: 1767225610125 },
  );
});

Deno.test("wire merged: errors name the fragment and the field", async (t) => {
  const good = () => viaJson(mergedToWire(sampleMerged())) as Record<string, unknown>;
  await t.step("bad fragment field", () => {
    const m = good();
    (m.fragments as Record<string, unknown>[])[1].qty = "1e-3";
    const error = assertWireError(
      () => mergedFromWire(m),
      "invalid_field",
      /merged: expected field "fragments\[1\]\.qty" to be a decimal string/,
    );
    assert.strictEqual(error.field, "fragments[1].qty");
    schemas.assertInvalid("merged", m);
  });
  await t.step("fragment of another symbol", () => {
    const m = good();
    const f = (m.fragments as Record<string, unknown>[])[0];
    f.symbol = "ETH-USDT";
    f.id = "binance:ETH-USDT:trade:12345";
    assertWireError(
      () => mergedFromWire(m),
      "invalid_field",
      /merged: fragments\[0\]: expected trade BTC-USDT, found trade ETH-USDT/,
    );
  });
  await t.step("no fragments", () => {
    assertWireError(
      () => mergedFromWire({ ...good(), fragments: [] }),
      "invalid_field",
      /expected field "fragments" to be an array of 1\.\.10000 items, found 0 items/,
    );
    schemas.assertInvalid("merged", { ...good(), fragments: [] });
  });
  await t.step("close reason", () => {
    assertWireError(
      () => mergedFromWire({ ...good(), close_reason: "" }),
      "invalid_field",
      /expected field "close_reason" to be one of time, count, found ""/,
    );
    schemas.assertInvalid("merged", { ...good(), close_reason: "" });
  });
  await t.step("duplicate providers", () => {
    const m = { ...good(), providers: ["binance", "okx", "okx"] };
    assertWireError(() => mergedFromWire(m), "invalid_field", /distinct providers/);
    schemas.assertInvalid("merged", m);
  });
});

// ---- exec reports ----------------------------------------------------------------------------

const execArb = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  consumerId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
  provider,
  symbol,
  clientOrderId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,36}$/),
  exchangeOrderId: fc.string({ maxLength: 24 }),
  side: fc.constantFrom("buy" as const, "sell" as const, "" as const),
  orderType: fc.constantFrom("limit" as const, "market" as const, "" as const),
  state: fc.constantFrom(
    "ACK" as const,
    "PARTIAL" as const,
    "FILLED" as const,
    "CANCELLED" as const,
    "REJECTED" as const,
    "EXPIRED" as const,
  ),
  price: decimalOrEmpty,
  qty: decimalOrEmpty,
  cumQty: decimalOrEmpty,
  lastQty: fc.stringMatching(/^[1-9][0-9]{0,6}(\.[0-9]{1,8})?$/),
  lastPx: fc.stringMatching(/^[1-9][0-9]{0,6}(\.[0-9]{1,8})?$/),
  cumQuote: decimalOrEmpty,
  fee: decimalOrEmpty,
  feeAsset: fc.string({ maxLength: 8 }),
  exchangeTradeId: fc.string({ maxLength: 24 }),
  reasonCode: fc.string({ minLength: 1, maxLength: 8 }),
  reasonText: fc.string({ maxLength: 40 }),
  exchangeTsMs: timestamp,
  recvTsMs: timestamp,
}).map((r): ExecReportData => ({ ...r, traceId: "" }));

Deno.test("wire exec_report round trip: data -> wire -> data is exact and schema-valid", () => {
  fc.assert(
    fc.property(execArb, (r) => {
      assert.strictEqual(validateExecReport(r), null);
      const text = viaJson(execReportToWire(r));
      assert.deepStrictEqual(execReportFromWire(text), r);
      schemas.assertValid("exec_report", text);
      schemas.assertDocumented("exec_report", text);
    }),
    { numRuns: 200 },
  );
});

Deno.test("wire exec_report: the trace id stays inside the gateway", () => {
  const wire = execReportToWire(sampleExecReport({ traceId: "t-99" }));
  assert.strictEqual("trace_id" in wire, false);
  assert.strictEqual(execReportFromWire(wire).traceId, "");
});

Deno.test("wire exec_report: state rules and field errors", async (t) => {
  const good = () => viaJson(execReportToWire(sampleExecReport())) as Record<string, unknown>;
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "REJECTED without reason",
      { ...good(), state: "REJECTED", reason_code: "", reason_text: "" },
      "invalid_field",
      /exec_report: REJECTED: expected the exchange's reason code or text, found neither/,
    ],
    [
      "FILLED without last price",
      { ...good(), state: "FILLED", last_px: "" },
      "invalid_field",
      /FILLED: expected lastQty and lastPx as decimals greater than 0/,
    ],
    [
      "unassigned delivery seq",
      { ...good(), seq: 0 },
      "invalid_field",
      /expected field "seq" to be a positive integer/,
    ],
    [
      "unknown state",
      { ...good(), state: "NEW" },
      "invalid_field",
      /expected field "state" to be one of ACK, PARTIAL, FILLED, CANCELLED, REJECTED, EXPIRED, found "NEW"/,
    ],
    [
      "missing cum_qty",
      { ...good(), cum_qty: undefined },
      "missing_field",
      /expected field "cum_qty" \(a decimal string or ""\), found none/,
    ],
    [
      "client id with a space",
      { ...good(), client_order_id: "order 1" },
      "invalid_field",
      /expected field "client_order_id" to be 1\.\.36 of A-Z a-z 0-9 \. _ : -/,
    ],
  ];
  for (const [name, value, code, pattern] of cases) {
    await t.step(name, () => {
      assertWireError(() => execReportFromWire(value), code, pattern);
      schemas.assertInvalid("exec_report", JSON.parse(JSON.stringify(value)));
    });
  }
  await t.step("a REJECTED with only a reason text passes", () => {
    const rejected = {
      ...good(),
      state: "REJECTED",
      reason_code: "",
      reason_text: "EOrder:Insufficient funds",
      last_qty: "",
      last_px: "",
    };
    assert.strictEqual(execReportFromWire(rejected).state, "REJECTED");
    schemas.assertValid("exec_report", rejected);
  });
});

// ---- any message -----------------------------------------------------------------------------

Deno.test("messageFromWire dispatches on type", () => {
  const event = messageFromWire(viaJson(eventToWire(sampleKline())));
  assert.ok(event.type === "event");
  assert.deepStrictEqual(event.event, sampleKline());
  const merged = messageFromWire(viaJson(mergedToWire(sampleMerged())));
  assert.ok(merged.type === "merged");
  assert.deepStrictEqual(merged.merged, sampleMerged());
  const report = messageFromWire(viaJson(execReportToWire(sampleExecReport())));
  assert.ok(report.type === "exec_report");
  assert.deepStrictEqual(report.report, sampleExecReport());
  const gap = messageFromWire({
    v: 1,
    type: "gap",
    provider: "okx",
    symbol: "BTC-USDT",
    kind: "book_update",
    from_seq: 5,
    to_seq: 9,
    count: 5,
  });
  assert.strictEqual(gap.type, "gap");
  assertWireError(
    () => messageFromWire({ v: 1, type: "hello" }),
    "unknown_type",
    /message: expected type one of event, merged, exec_report, subscribe.*, found "hello"/,
  );
  assertWireError(() => messageFromWire("x"), "not_an_object", /found "x"/);
});

Deno.test("every sample event is schema-valid on the wire", () => {
  for (const e of sampleEvents()) schemas.assertValid("event", viaJson(eventToWire(e)));
  const data: CanonicalEventData = sampleTrade({ seq: Number.MAX_SAFE_INTEGER });
  schemas.assertValid("event", viaJson(eventToWire(data)));
});
