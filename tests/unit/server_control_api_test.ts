import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry, type StreamKey } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import { controlFromWire } from "../../src/schema/mod.ts";
import type { BookStateView } from "../../src/server/book_state_view.ts";
import { newControlCounters, registerControlMetrics } from "../../src/server/control_api.ts";
import { type GatewayStatus, handleRequest } from "../../src/server/http_server.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

const BOOK: BookStateView = {
  provider: "binance",
  symbol: "BTC-USDT",
  state: "LIVE",
  bookId: 4242,
  bestBid: "87250.00",
  bestAsk: "87250.01",
  resyncs: { gap: 1, stale: 0 },
  lastUpdateMs: 1767225600201.5,
};

function setup(wired = true) {
  const routes = new RoutingTable<Consumer>({ subscriptionsPerConsumerMax: 2 });
  const consumers = new ConsumerRegistry({ routes });
  const metrics = new MetricsRegistry();
  const counters = newControlCounters();
  registerControlMetrics(metrics, counters);
  const status: GatewayStatus = {
    ready: () => true,
    notReadyReason: () => "",
    pools: () => [],
    codec: () => ({}),
    metrics,
  };
  if (wired) {
    status.consumers = consumers;
    status.routing = () => routes.snapshot();
    status.books = () => [BOOK, { ...BOOK, provider: "okx", state: "SYNCING" }];
  }
  const call = (method: string, path: string, body?: string, headers?: HeadersInit) =>
    handleRequest(
      new Request(`http://127.0.0.1${path}`, { method, body, headers }),
      status,
      { counters, bodyBytesMax: 1024 },
    );
  return { routes, consumers, status, counters, metrics, call };
}

const FIELDS: StreamKey = { provider: "binance", symbol: "BTC-USDT", kind: "trade" };

Deno.test("control api: POST and DELETE subscriptions answer acks and change the routing table", async () => {
  const { routes, consumers, counters, call } = setup();
  const c = consumers.create("strat-a");
  const sub = await call("POST", "/v1/consumers/strat-a/subscriptions", JSON.stringify(FIELDS));
  assert.equal(sub.status, 200);
  assert.match(sub.headers.get("content-type")!, /^application\/json/);
  const ack = await sub.json();
  assert.deepEqual(ack, {
    v: 1,
    type: "ack",
    req_id: "http",
    ok: true,
    routing_version: routes.version,
  });
  assert.deepEqual(controlFromWire(ack), {
    type: "ack",
    reqId: "http",
    ok: true,
    routingVersion: routes.version,
  });
  assert.deepEqual(c.subscriptions(), [FIELDS]);

  // A full command object with its own req_id is accepted too.
  const full = await call(
    "POST",
    "/v1/consumers/strat-a/subscriptions",
    JSON.stringify({ v: 1, type: "subscribe", req_id: "mine-1", ...FIELDS, kind: "ticker" }),
  );
  assert.equal((await full.json()).req_id, "mine-1");

  const list = await call("GET", "/v1/consumers/strat-a/subscriptions");
  assert.deepEqual(await list.json(), {
    consumer_id: "strat-a",
    subscriptions: [FIELDS, { ...FIELDS, kind: "ticker" }],
  });

  const del = await call("DELETE", "/v1/consumers/strat-a/subscriptions", JSON.stringify(FIELDS));
  assert.equal(del.status, 200);
  assert.equal((await del.json()).routing_version, routes.version);
  assert.deepEqual(c.subscriptions(), [{ ...FIELDS, kind: "ticker" }]);
  assert.equal(counters.applied, 3);
});

Deno.test("control api: errors are acks with the matching HTTP status", async (t) => {
  const { consumers, counters, call, metrics } = setup();
  consumers.create("strat-a");
  const path = "/v1/consumers/strat-a/subscriptions";

  await t.step("unknown consumer: 404 unknown_consumer", async () => {
    const res = await call("POST", "/v1/consumers/ghost/subscriptions", JSON.stringify(FIELDS));
    assert.equal(res.status, 404);
    const ack = await res.json();
    assert.equal(ack.ok, false);
    assert.equal(ack.error.code, "unknown_consumer");
    assert.match(ack.error.message, /found no consumer "ghost"/);
  });
  await t.step("bad JSON: 400 invalid_json", async () => {
    const res = await call("POST", path, '{"provider": ');
    assert.equal(res.status, 400);
    const ack = await res.json();
    assert.equal(ack.error.code, "invalid_json");
    assert.match(ack.error.message, /^expected a JSON text, found invalid JSON/);
  });
  await t.step("no body, empty body, not an object", async () => {
    assert.equal((await (await call("POST", path)).json()).error.code, "missing_body");
    assert.equal((await (await call("POST", path, "  ")).json()).error.code, "missing_body");
    const arr = await call("POST", path, "[1]");
    assert.equal(arr.status, 400);
    assert.match((await arr.json()).error.message, /found an array/);
  });
  await t.step("schema violation: 400 with the field named", async () => {
    const res = await call("POST", path, JSON.stringify({ ...FIELDS, symbol: "btcusdt" }));
    assert.equal(res.status, 400);
    const ack = await res.json();
    assert.equal(ack.error.code, "invalid_field");
    assert.match(ack.error.message, /symbol/);
    const extra = await call("POST", path, JSON.stringify({ ...FIELDS, qty: "1" }));
    assert.equal((await extra.json()).error.code, "unknown_field");
  });
  await t.step("type that contradicts the method: 400", async () => {
    const res = await call("DELETE", path, JSON.stringify({ ...FIELDS, type: "subscribe" }));
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /expected type "unsubscribe" \(DELETE\)/);
  });
  await t.step("body over the bound: 413, by content-length and by reading", async () => {
    const big = JSON.stringify({ ...FIELDS, req_id: "x".repeat(2000) });
    const declared = await call("POST", path, big, { "content-length": String(big.length) });
    assert.equal(declared.status, 413);
    const ack = await declared.json();
    assert.equal(ack.error.code, "body_too_large");
    assert.match(ack.error.message, /at most 1024 bytes, found content-length \d+/);
    // A streamed body has no content-length: it is cut off while reading.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("x".repeat(400)));
        controller.close();
      },
    });
    const res = await handleRequest(
      new Request(`http://127.0.0.1${path}`, { method: "POST", body: stream }),
      setup().status,
      { bodyBytesMax: 1024 },
    );
    assert.equal(res.status, 413);
    assert.match((await res.json()).error.message, /found more than 1024 bytes/);
  });
  await t.step("routing refusal: 409 routing_refused", async () => {
    await call("POST", path, JSON.stringify(FIELDS));
    await call("POST", path, JSON.stringify({ ...FIELDS, kind: "ticker" }));
    const res = await call("POST", path, JSON.stringify({ ...FIELDS, kind: "kline" }));
    assert.equal(res.status, 409);
    const ack = await res.json();
    assert.equal(ack.error.code, "routing_refused");
    assert.match(ack.error.message, /at most 2 subscriptions/);
  });
  await t.step("wrong method: 405 with allow", async () => {
    const res = await call("PUT", path, "{}");
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD, POST, DELETE");
    await res.body?.cancel();
    const ro = await call("POST", "/v1/routing", "{}");
    assert.equal(ro.status, 405);
    await ro.body?.cancel();
  });
  await t.step("counted, and exported as metrics", () => {
    assert.equal(counters.unknownConsumer, 1);
    assert.equal(counters.refused, 1);
    assert.ok(counters.rejected >= 7);
    const samples = parsePrometheusText(metrics.render());
    assert.equal(samples.get('switchyard_http_control_commands_total{outcome="refused"}'), 1);
    assert.equal(
      samples.get('switchyard_http_control_commands_total{outcome="unknown_consumer"}'),
      1,
    );
  });
});

Deno.test("control api: routing, consumers and books views", async () => {
  const { consumers, call } = setup();
  const a = consumers.create("strat-a");
  a.subscribe(FIELDS);
  consumers.create("strat-b");

  const routing = await (await call("GET", "/v1/routing")).json();
  assert.equal(routing.version, 3);
  assert.deepEqual(routing.consumers, [
    { id: "strat-a", subscriptions: [FIELDS] },
    { id: "strat-b", subscriptions: [] },
  ]);
  assert.equal(routing.streams, 1);

  const list = await (await call("GET", "/v1/consumers")).json();
  assert.deepEqual(list.consumers.map((c: { id: string }) => c.id), ["strat-a", "strat-b"]);
  assert.equal(list.consumers[0].transport, "in_process");
  assert.equal(list.consumers[0].stats.queueEventsMax, 4096);
  assert.equal(list.consumers[0].connection, null);
  assert.deepEqual(list.consumers[0].subscriptions, [FIELDS]);

  const one = await call("GET", "/v1/consumers/strat-b");
  assert.equal((await one.json()).id, "strat-b");
  const missing = await call("GET", "/v1/consumers/nobody");
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).error, /found no consumer "nobody"/);

  const books = await (await call("GET", "/v1/books")).json();
  assert.equal(books.books.length, 2);
  const book = await call("GET", "/v1/books/binance/BTC-USDT");
  assert.deepEqual(await book.json(), BOOK);
  const okx = await (await call("GET", "/v1/books/okx/BTC-USDT")).json();
  assert.equal(okx.state, "SYNCING");
  const nobook = await call("GET", "/v1/books/kraken/BTC-USD");
  assert.equal(nobook.status, 404);
  assert.match((await nobook.json()).error, /lists 2\), found none for provider "kraken"/);
});

Deno.test("control api: unwired sources answer 503; unknown paths 404; bad escapes 400", async () => {
  const { call } = setup(false);
  for (const path of ["/v1/routing", "/v1/consumers", "/v1/books", "/v1/consumers/a"]) {
    const res = await call("GET", path);
    assert.equal(res.status, 503, path);
    assert.match(
      (await res.json()).error,
      /^expected the gateway to provide .*, found none wired$/,
    );
  }
  const post = await call("POST", "/v1/consumers/a/subscriptions", JSON.stringify(FIELDS));
  assert.equal(post.status, 503);
  await post.body?.cancel();
  for (const path of ["/v1/nothing", "/v1/books/a", "/v1/consumers/a/b", "/v2/routing"]) {
    const res = await call("GET", path);
    assert.equal(res.status, 404, path);
    assert.match((await res.json()).error, /expected one of .*\/v1\/stream/);
  }
  const bad = await call("GET", "/v1/consumers/%E0%A4%A");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});

Deno.test("stream route without a WebSocket endpoint or upgrade header", async () => {
  const { status } = setup();
  const off = await handleRequest(new Request("http://127.0.0.1/v1/stream"), status);
  assert.equal(off.status, 503);
  await off.body?.cancel();
  const post = await handleRequest(
    new Request("http://127.0.0.1/v1/stream", { method: "POST" }),
    status,
  );
  assert.equal(post.status, 405);
  await post.body?.cancel();
});
