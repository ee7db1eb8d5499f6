import assert from "node:assert/strict";
import { ConsumerRegistry, type StreamKey } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import { controlFromWire } from "../../src/schema/mod.ts";
import {
  applyCommand,
  binaryFrameOutcome,
  clampMessage,
  type CommandTarget,
  handleCommandText,
  handleCommandValue,
} from "../../src/server/command_handler.ts";
import { encodeJson } from "../../src/codec/mod.ts";
import { controlToWire } from "../../src/schema/mod.ts";

const SUB = {
  v: 1,
  type: "subscribe",
  req_id: "r1",
  provider: "binance",
  symbol: "BTC-USDT",
  kind: "trade",
};

function setup() {
  const routes = new RoutingTable();
  const registry = new ConsumerRegistry({ routes });
  const consumer = registry.create("c1");
  return { routes, registry, consumer };
}

/** The ack must be valid wire format (what the client parses). */
function roundTrip(outcome: { ack: Parameters<typeof controlToWire>[0] }) {
  return controlFromWire(JSON.parse(encodeJson(controlToWire(outcome.ack))));
}

Deno.test("commands: subscribe and unsubscribe answer ok acks with the routing version", () => {
  const { routes, consumer } = setup();
  const v0 = routes.version;
  const sub = handleCommandText(JSON.stringify(SUB), consumer);
  assert.equal(sub.status, "applied");
  assert.equal(sub.commandType, "subscribe");
  assert.deepEqual(sub.ack, { type: "ack", reqId: "r1", ok: true, routingVersion: v0 + 1 });
  assert.deepEqual(roundTrip(sub), sub.ack);
  assert.deepEqual(consumer.subscriptions(), [
    { provider: "binance", symbol: "BTC-USDT", kind: "trade" },
  ]);
  // Idempotent: subscribing again is ok and leaves the version alone.
  const again = handleCommandText(JSON.stringify({ ...SUB, req_id: "r2" }), consumer);
  assert.deepEqual(again.ack, { type: "ack", reqId: "r2", ok: true, routingVersion: v0 + 1 });
  const unsub = handleCommandText(
    JSON.stringify({ ...SUB, type: "unsubscribe", req_id: "r3" }),
    consumer,
  );
  assert.equal(unsub.status, "applied");
  assert.equal(unsub.ack.routingVersion, v0 + 2);
  assert.deepEqual(consumer.subscriptions(), []);
});

Deno.test("commands: malformed input becomes an error ack, never an exception", async (t) => {
  const { consumer } = setup();
  await t.step("invalid JSON: invalid_json, empty req_id", () => {
    const out = handleCommandText('{"v":1,', consumer);
    assert.equal(out.status, "rejected");
    assert.equal(out.ack.reqId, "");
    assert.equal(out.ack.ok, false);
    assert.equal(out.ack.error?.code, "invalid_json");
    assert.match(out.ack.error!.message, /^expected a JSON text/);
    roundTrip(out);
  });
  await t.step("not an object", () => {
    const out = handleCommandText("[1,2]", consumer);
    assert.equal(out.ack.error?.code, "not_an_object");
  });
  await t.step("schema violation keeps the req_id", () => {
    const out = handleCommandText(JSON.stringify({ ...SUB, symbol: "BTCUSDT" }), consumer);
    assert.equal(out.status, "rejected");
    assert.equal(out.ack.reqId, "r1");
    assert.equal(out.ack.error?.code, "invalid_field");
    assert.match(out.ack.error!.message, /BTCUSDT/);
  });
  await t.step("unknown field and bad version", () => {
    assert.equal(
      handleCommandText(JSON.stringify({ ...SUB, extra: 1 }), consumer).ack.error?.code,
      "unknown_field",
    );
    assert.equal(
      handleCommandText(JSON.stringify({ ...SUB, v: 2 }), consumer).ack.error?.code,
      "bad_version",
    );
  });
  await t.step("unknown type", () => {
    const out = handleCommandText(JSON.stringify({ ...SUB, type: "ack" }), consumer);
    assert.equal(out.ack.error?.code, "unknown_type");
  });
  await t.step("too long: refused without parsing", () => {
    const out = handleCommandText(" ".repeat(100), consumer, { textCharsMax: 99 });
    assert.equal(out.ack.error?.code, "message_too_large");
    assert.match(out.ack.error!.message, /at most 99 characters, found 100/);
  });
  await t.step("binary frame", () => {
    const out = binaryFrameOutcome(12);
    assert.equal(out.status, "rejected");
    assert.equal(out.ack.error?.code, "binary_frame");
    assert.match(out.ack.error!.message, /found a binary frame of 12 bytes/);
  });
  assert.deepEqual(consumer.subscriptions(), [], "no malformed command changed anything");
});

Deno.test("commands: merged, order and trading commands are parsed but not supported yet", () => {
  const { consumer } = setup();
  const commands = [
    {
      v: 1,
      type: "merged_subscribe",
      req_id: "m1",
      symbol: "BTC-USDT",
      kind: "trade",
      providers: ["binance"],
    },
    {
      v: 1,
      type: "merged_unsubscribe",
      req_id: "m2",
      symbol: "BTC-USDT",
      kind: "trade",
      providers: ["binance"],
    },
    {
      v: 1,
      type: "order_submit",
      req_id: "o1",
      client_order_id: "order0001",
      provider: "binance",
      symbol: "BTC-USDT",
      side: "buy",
      order_type: "limit",
      price: "1",
      qty: "1",
    },
    {
      v: 1,
      type: "order_cancel",
      req_id: "o2",
      client_order_id: "order0001",
      provider: "binance",
      symbol: "BTC-USDT",
    },
    { v: 1, type: "trading", req_id: "t1", consumer_id: "c1", enabled: false },
  ];
  for (const cmd of commands) {
    const out = handleCommandValue(cmd, consumer);
    assert.equal(out.status, "unsupported", cmd.type);
    assert.equal(out.commandType, cmd.type);
    assert.equal(out.ack.reqId, cmd.req_id);
    assert.equal(out.ack.error?.code, "not_supported");
    assert.match(
      out.ack.error!.message,
      new RegExp(`found ${cmd.type}, which is not supported yet`),
    );
  }
  // An invalid unsupported command is still reported as invalid first.
  const bad = handleCommandValue({ ...commands[0], providers: [] }, consumer);
  assert.equal(bad.status, "rejected");
});

Deno.test("commands: a routing refusal is an error ack with routing_refused", () => {
  const refusing: CommandTarget = {
    subscribe: (_k: StreamKey) => ({ ok: false, error: "x".repeat(2000), version: 9 }),
    unsubscribe: (_k: StreamKey) => ({ ok: true, changed: false, version: 9 }),
  };
  const out = applyCommand({
    type: "subscribe",
    reqId: "r1",
    provider: "okx",
    symbol: "ETH-USDT",
    kind: "ticker",
  }, refusing);
  assert.equal(out.status, "refused");
  assert.equal(out.ack.error?.code, "routing_refused");
  assert.equal(out.ack.error?.message.length, 1024, "clamped to the ack bound");
  roundTrip(out);
  assert.equal(clampMessage(""), "unknown error");
  assert.equal(clampMessage("short"), "short");
});
