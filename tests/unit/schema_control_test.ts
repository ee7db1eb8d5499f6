import assert from "node:assert/strict";
import fc from "fast-check";
import {
  commandFromWire,
  controlFromWire,
  type ControlMessage,
  controlToWire,
  errorAck,
  MERGE_EVENTS_DEFAULT,
  MERGE_WINDOW_MS_DEFAULT,
  OrderRequest,
  orderRequestFromCommand,
  type OrderSubmitCommand,
  requestIdOf,
  validateOrderRequest,
  WireFormatError,
} from "../../src/schema/mod.ts";
import { SchemaValidators } from "../support/schema_json_schema.ts";

const schemas = new SchemaValidators();

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
  assert.match(caught.message, /^[a-z_]+: /, "messages start with the message type");
  assert.doesNotMatch(caught.message, /\.$/);
  return caught;
}

/** One valid message of each control type, as data. */
const GOOD: ControlMessage[] = [
  { type: "subscribe", reqId: "r1", provider: "binance", symbol: "BTC-USDT", kind: "trade" },
  { type: "unsubscribe", reqId: "r2", provider: "okx", symbol: "ETH-USDT", kind: "book_update" },
  {
    type: "merged_subscribe",
    reqId: "r3",
    symbol: "BTC-USDT",
    kind: "trade",
    providers: ["binance", "okx", "kraken"],
    windowMs: 10000,
    maxEvents: 1000,
    partialPolicy: "suppress",
  },
  {
    type: "merged_unsubscribe",
    reqId: "r4",
    symbol: "BTC-USDT",
    kind: "trade",
    providers: ["binance", "okx", "kraken"],
  },
  {
    type: "order_submit",
    reqId: "r5",
    clientOrderId: "order0001",
    provider: "binance",
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "IOC",
    price: "60000.00",
    qty: "0.00100000",
  },
  {
    type: "order_submit",
    reqId: "r6",
    clientOrderId: "6d1b345e282140e2ad834ecb18a06876",
    provider: "kraken",
    symbol: "BTC-USD",
    side: "sell",
    orderType: "market",
    timeInForce: "",
    price: "",
    qty: "0.5",
  },
  {
    type: "order_cancel",
    reqId: "r7",
    clientOrderId: "order0001",
    provider: "binance",
    symbol: "BTC-USDT",
  },
  { type: "trading", reqId: "r8", consumerId: "strat-a", enabled: false },
  { type: "ack", reqId: "r1", ok: true, routingVersion: 12 },
  {
    type: "ack",
    reqId: "",
    ok: false,
    error: { code: "bad_version", message: "control: expected v 1, found 2" },
  },
  {
    type: "gap",
    provider: "okx",
    symbol: "BTC-USDT",
    kind: "book_update",
    fromSeq: 880002,
    toSeq: 880016,
    count: 3,
  },
];

Deno.test("control messages: data -> wire -> data is exact and every wire form is schema-valid", () => {
  for (const msg of GOOD) {
    const wire = JSON.parse(JSON.stringify(controlToWire(msg)));
    assert.deepStrictEqual(controlFromWire(wire), msg, msg.type);
    schemas.assertValid("control", wire);
    schemas.assertDocumented("control", wire);
  }
});

Deno.test("control messages: order_submit round trips for generated orders", () => {
  const positive = fc.stringMatching(/^[1-9][0-9]{0,8}(\.[0-9]{1,8})?$/);
  const submit = fc.record({
    reqId: fc.stringMatching(/^[!-~]{1,64}$/),
    clientOrderId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,36}$/),
    provider: fc.constantFrom("binance", "okx", "kraken"),
    symbol: fc.stringMatching(/^[A-Z]{2,5}-[A-Z]{3,4}$/),
    side: fc.constantFrom("buy" as const, "sell" as const),
    limit: fc.boolean(),
    timeInForce: fc.constantFrom("GTC" as const, "IOC" as const, "FOK" as const),
    price: positive,
    qty: positive,
  }).map(({ limit, ...r }): OrderSubmitCommand => ({
    type: "order_submit",
    ...r,
    orderType: limit ? "limit" : "market",
    timeInForce: limit ? r.timeInForce : "",
    price: limit ? r.price : "",
  }));
  fc.assert(fc.property(submit, (cmd) => {
    const wire = JSON.parse(JSON.stringify(controlToWire(cmd)));
    assert.deepStrictEqual(commandFromWire(wire), cmd);
    schemas.assertValid("control", wire);
  }));
});

Deno.test("control messages: defaults fill optional fields", async (t) => {
  await t.step("merged_subscribe window and count default to 10 s and 1000 events", () => {
    const msg = commandFromWire({
      v: 1,
      type: "merged_subscribe",
      req_id: "m1",
      symbol: "BTC-USDT",
      kind: "ticker",
      providers: ["binance", "okx"],
    });
    assert.ok(msg.type === "merged_subscribe");
    assert.strictEqual(msg.windowMs, MERGE_WINDOW_MS_DEFAULT);
    assert.strictEqual(msg.windowMs, 10000);
    assert.strictEqual(msg.maxEvents, MERGE_EVENTS_DEFAULT);
    assert.strictEqual(msg.partialPolicy, "suppress");
  });
  await t.step("a limit order without time_in_force is GTC", () => {
    const msg = commandFromWire({
      v: 1,
      type: "order_submit",
      req_id: "o1",
      client_order_id: "a1",
      provider: "okx",
      symbol: "BTC-USDT",
      side: "buy",
      order_type: "limit",
      price: "63000",
      qty: "0.01",
    });
    assert.ok(msg.type === "order_submit");
    assert.strictEqual(msg.timeInForce, "GTC");
  });
  await t.step("a market order may carry an empty price and time_in_force", () => {
    const wire = {
      v: 1,
      type: "order_submit",
      req_id: "o2",
      client_order_id: "a2",
      provider: "okx",
      symbol: "BTC-USDT",
      side: "sell",
      order_type: "market",
      price: "",
      time_in_force: "",
      qty: "0.01",
    };
    const msg = commandFromWire(wire);
    assert.ok(msg.type === "order_submit");
    assert.deepStrictEqual([msg.price, msg.timeInForce], ["", ""]);
    schemas.assertValid("control", wire);
  });
});

const SUBMIT = {
  v: 1,
  type: "order_submit",
  req_id: "o1",
  client_order_id: "order0001",
  provider: "binance",
  symbol: "BTC-USDT",
  side: "buy",
  order_type: "limit",
  time_in_force: "GTC",
  price: "60000.00",
  qty: "0.001",
};
const SUBSCRIBE = {
  v: 1,
  type: "subscribe",
  req_id: "s1",
  provider: "binance",
  symbol: "BTC-USDT",
  kind: "trade",
};

Deno.test("control messages: bad commands fail with clear errors (and the JSON Schema agrees)", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    [
      "not an object",
      "subscribe",
      "not_an_object",
      /control: expected a JSON object, found "subscribe"/,
    ],
    ["null", null, "not_an_object", /found null/],
    [
      "wrong version",
      { ...SUBSCRIBE, v: 2 },
      "bad_version",
      /^subscribe: expected v 1, found 2$/,
    ],
    [
      "version as a string",
      { ...SUBSCRIBE, v: "1" },
      "bad_version",
      /expected v 1, found "1"/,
    ],
    ["no version", { ...SUBSCRIBE, v: undefined }, "bad_version", /expected v 1, found none/],
    [
      "unknown type",
      { ...SUBSCRIBE, type: "subscribe_all" },
      "unknown_type",
      /^control: expected type one of subscribe, unsubscribe, merged_subscribe, merged_unsubscribe, order_submit, order_cancel, trading, found "subscribe_all"$/,
    ],
    [
      "no type",
      { ...SUBSCRIBE, type: undefined },
      "unknown_type",
      /expected type one of .*, found none/,
    ],
    [
      "a client may not send an ack",
      { v: 1, type: "ack", req_id: "x", ok: true },
      "unknown_type",
      /found "ack"/,
    ],
    [
      "missing symbol",
      { ...SUBSCRIBE, symbol: undefined },
      "missing_field",
      /^subscribe: expected field "symbol" \(a BASE-QUOTE symbol such as BTC-USDT\), found none$/,
    ],
    [
      "exchange symbol",
      { ...SUBSCRIBE, symbol: "BTCUSDT" },
      "invalid_field",
      /subscribe: expected field "symbol" to be a BASE-QUOTE symbol such as BTC-USDT, found "BTCUSDT"/,
    ],
    [
      "exec_report is not subscribable",
      { ...SUBSCRIBE, kind: "exec_report" },
      "invalid_field",
      /expected field "kind" to be one of trade, book_snapshot, book_update, ticker, kline, found "exec_report"/,
    ],
    [
      "numeric req_id",
      { ...SUBSCRIBE, req_id: 7 },
      "invalid_field",
      /expected field "req_id" to be 1\.\.64 printable ASCII characters, found 7/,
    ],
    [
      "camelCase field",
      { ...SUBSCRIBE, reqId: "s1", req_id: undefined },
      "unknown_field",
      /subscribe: expected only the fields v, type, req_id, provider, symbol, kind, found "reqId"/,
    ],
    [
      "typo in an order's optional field",
      { ...SUBMIT, timeInForce: "IOC" },
      "unknown_field",
      /order_submit: expected only the fields .*, found "timeInForce"/,
    ],
    [
      "client order id too long",
      { ...SUBMIT, client_order_id: "x".repeat(37) },
      "invalid_field",
      /expected field "client_order_id" to be 1\.\.36 of A-Z a-z 0-9 \. _ : -/,
    ],
    [
      "missing client order id",
      { ...SUBMIT, client_order_id: undefined },
      "missing_field",
      /expected field "client_order_id"/,
    ],
    [
      "quantity as a float",
      { ...SUBMIT, qty: 0.001 },
      "invalid_field",
      /expected field "qty" to be a decimal string greater than 0, found 0.001/,
    ],
    [
      "zero quantity",
      { ...SUBMIT, qty: "0.000" },
      "invalid_field",
      /expected field "qty" to be a decimal string greater than 0, found "0.000"/,
    ],
    [
      "limit without price",
      { ...SUBMIT, price: undefined },
      "missing_field",
      /expected field "price" \(a decimal string greater than 0\), found none/,
    ],
    [
      "limit with empty time in force",
      { ...SUBMIT, time_in_force: "" },
      "invalid_field",
      /expected field "time_in_force" to be one of GTC, IOC, FOK, found ""/,
    ],
    [
      "market with a price",
      { ...SUBMIT, order_type: "market", time_in_force: undefined },
      "invalid_field",
      /expected field "price" to be absent or "" for a market order, found "60000.00"/,
    ],
    [
      "market with a time in force",
      { ...SUBMIT, order_type: "market", price: undefined },
      "invalid_field",
      /expected field "time_in_force" to be absent or "" for a market order, found "GTC"/,
    ],
    [
      "stop order",
      { ...SUBMIT, order_type: "stop_limit" },
      "invalid_field",
      /expected field "order_type" to be one of limit, market, found "stop_limit"/,
    ],
    [
      "cancel without provider",
      { v: 1, type: "order_cancel", req_id: "c1", client_order_id: "a1", symbol: "BTC-USDT" },
      "missing_field",
      /order_cancel: expected field "provider"/,
    ],
    [
      "trading switch as a string",
      { v: 1, type: "trading", req_id: "t1", consumer_id: "strat-a", enabled: "false" },
      "invalid_field",
      /trading: expected field "enabled" to be true or false, found "false"/,
    ],
    [
      "merged window too long",
      {
        v: 1,
        type: "merged_subscribe",
        req_id: "m1",
        symbol: "BTC-USDT",
        kind: "trade",
        providers: ["binance"],
        window_ms: 600000,
      },
      "invalid_field",
      /expected field "window_ms" to be an integer from 1 to 60000 \(ms\), found 600000/,
    ],
    [
      "merged without providers",
      {
        v: 1,
        type: "merged_subscribe",
        req_id: "m1",
        symbol: "BTC-USDT",
        kind: "trade",
        providers: [],
      },
      "invalid_field",
      /expected field "providers" to be an array of 1\.\.16 items, found 0 items/,
    ],
    [
      "merged with a provider twice",
      {
        v: 1,
        type: "merged_subscribe",
        req_id: "m1",
        symbol: "BTC-USDT",
        kind: "trade",
        providers: ["okx", "okx"],
      },
      "invalid_field",
      /expected field "providers\[1\]" to be a provider not named before, found "okx"/,
    ],
    [
      "unknown partial policy",
      {
        v: 1,
        type: "merged_subscribe",
        req_id: "m1",
        symbol: "BTC-USDT",
        kind: "trade",
        providers: ["okx"],
        partial_policy: "emit",
      },
      "invalid_field",
      /expected field "partial_policy" to be one of suppress, found "emit"/,
    ],
  ];
  for (const [name, value, code, pattern] of cases) {
    await t.step(name, () => {
      assertWireError(() => commandFromWire(value), code, pattern);
      if (name !== "a client may not send an ack") {
        schemas.assertInvalid("control", JSON.parse(JSON.stringify(value) ?? "null"));
      }
    });
  }
});

Deno.test("control messages: ack and gap are read leniently but checked", async (t) => {
  await t.step("unknown fields in an ack are ignored", () => {
    const ack = controlFromWire({ v: 1, type: "ack", req_id: "r1", ok: true, server_ts: 5 });
    assert.deepStrictEqual(ack, { type: "ack", reqId: "r1", ok: true });
  });
  await t.step("a failed ack needs its error, a good one must not have one", () => {
    assertWireError(
      () => controlFromWire({ v: 1, type: "ack", req_id: "r1", ok: false }),
      "missing_field",
      /ack: expected field "error" when ok is false, found none/,
    );
    schemas.assertInvalid("control", { v: 1, type: "ack", req_id: "r1", ok: false });
    const both = { v: 1, type: "ack", req_id: "r1", ok: true, error: { code: "x", message: "y" } };
    assertWireError(() => controlFromWire(both), "invalid_field", /expected no field "error"/);
    schemas.assertInvalid("control", both);
  });
  await t.step("error code must be snake_case", () => {
    const bad = {
      v: 1,
      type: "ack",
      req_id: "r1",
      ok: false,
      error: { code: "Bad", message: "m" },
    };
    assertWireError(
      () => controlFromWire(bad),
      "invalid_field",
      /ack: expected field "error.code" to be a snake_case code, found "Bad"/,
    );
    schemas.assertInvalid("control", bad);
  });
  await t.step("a gap runs forwards", () => {
    assertWireError(
      () =>
        controlFromWire({
          v: 1,
          type: "gap",
          provider: "okx",
          symbol: "BTC-USDT",
          kind: "trade",
          from_seq: 10,
          to_seq: 9,
          count: 0,
        }),
      "invalid_field",
      /gap: expected field "to_seq" to be at least from_seq \(10\), found 9/,
    );
  });
});

Deno.test("requestIdOf finds a usable req_id in an unparseable command", () => {
  assert.strictEqual(requestIdOf({ v: 9, type: "x", req_id: "abc" }), "abc");
  assert.strictEqual(requestIdOf({ req_id: "has space" }), "");
  assert.strictEqual(requestIdOf({ req_id: 5 }), "");
  assert.strictEqual(requestIdOf("text"), "");
  assert.strictEqual(requestIdOf(null), "");
});

Deno.test("errorAck turns a WireFormatError into a schema-valid ack", () => {
  const bad = { ...SUBSCRIBE, v: 2 };
  let error: WireFormatError | undefined;
  try {
    commandFromWire(bad);
  } catch (e) {
    error = e as WireFormatError;
  }
  assert.ok(error instanceof WireFormatError);
  const ack = errorAck(requestIdOf(bad), error);
  assert.deepStrictEqual(ack, {
    type: "ack",
    reqId: "s1",
    ok: false,
    error: { code: "bad_version", message: "subscribe: expected v 1, found 2" },
  });
  schemas.assertValid("control", JSON.parse(JSON.stringify(controlToWire(ack))));
});

Deno.test("orderRequestFromCommand builds a valid request, into a pooled object when asked", async (t) => {
  const submit = commandFromWire(SUBMIT);
  assert.ok(submit.type === "order_submit");
  await t.step("new order", () => {
    const o = orderRequestFromCommand(submit, {
      consumerId: "strat-a",
      createdTsMs: 1767225600000,
      traceId: "t-1",
    });
    assert.strictEqual(validateOrderRequest(o), null);
    assert.deepStrictEqual(o, {
      consumerId: "strat-a",
      clientOrderId: "order0001",
      action: "new",
      provider: "binance",
      symbol: "BTC-USDT",
      side: "buy",
      orderType: "limit",
      timeInForce: "GTC",
      price: "60000.00",
      qty: "0.001",
      createdTsMs: 1767225600000,
      traceId: "t-1",
    });
  });
  await t.step("cancel into a pooled request clears the order terms", () => {
    const pooled = new OrderRequest();
    orderRequestFromCommand(submit, { consumerId: "strat-a", createdTsMs: 1, into: pooled });
    const cancel = commandFromWire({
      v: 1,
      type: "order_cancel",
      req_id: "c1",
      client_order_id: "order0001",
      provider: "binance",
      symbol: "BTC-USDT",
    });
    assert.ok(cancel.type === "order_cancel");
    const o = orderRequestFromCommand(cancel, {
      consumerId: "strat-a",
      createdTsMs: 2,
      into: pooled,
    });
    assert.strictEqual(o, pooled);
    assert.deepStrictEqual(
      [o.action, o.side, o.orderType, o.price, o.qty, o.traceId],
      ["cancel", "", "", "", "", ""],
    );
    assert.strictEqual(validateOrderRequest(o), null);
  });
});
