import assert from "node:assert/strict";
import {
  type GatewayStatus,
  handleRequest,
  ROUTES,
  startHttpServer,
} from "../../src/server/http_server.ts";
import {
  DLQ_PATH,
  OPS_LIMIT_DEFAULT,
  type OpsSources,
  routeOps,
  TELEMETRY_PATH,
} from "../../src/server/ops_api.ts";
import { DeadLetterQueue } from "../../src/telemetry/dead_letter_queue.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { TelemetryBus } from "../../src/telemetry/telemetry_bus.ts";
import { NO_ID } from "../../src/telemetry/trace_id.ts";

const T0 = Date.UTC(2026, 0, 1);

function status(): GatewayStatus {
  return {
    ready: () => true,
    notReadyReason: () => "",
    pools: () => [],
    codec: () => ({}),
    metrics: new MetricsRegistry(),
  };
}

function setup() {
  let now = T0;
  const clock = () => now++;
  const dlq = new DeadLetterQueue({ entriesMax: 3, now: clock, errorLog: () => {} });
  const telemetry = new TelemetryBus({ log: false, now: clock });
  const ops: OpsSources = { dlq, telemetry };
  dlq.add({
    priority: "low",
    reason: "queue_full",
    stream: "binance:BTC-USDT:ticker",
    consumer: "strat-a",
    trace_id: "t-x-1",
    decision_id: "d-x-1",
    payload: { seq: 10, price: "87250.01" },
  });
  dlq.add({
    priority: "high",
    reason: "exec_report_undeliverable",
    stream: "",
    consumer: "strat-b",
    trace_id: "t-x-2",
    decision_id: "d-x-2",
    payload: { client_order_id: "co-1", state: "FILLED" },
  });
  dlq.add({
    priority: "low",
    reason: "coalesce_overflow",
    stream: "binance:ETH-USDT:book_update",
    consumer: "strat-a",
    trace_id: "t-x-3",
    decision_id: "d-x-3",
  });
  dlq.add({
    priority: "low",
    reason: "queue_full",
    stream: "binance:BTC-USDT:ticker",
    consumer: "strat-b",
    trace_id: "t-x-4",
    decision_id: "d-x-3",
  }); // evicts entry 1 (the oldest low)
  telemetry.publish({
    type: "gap",
    consumer: "strat-a",
    stream: "binance:BTC-USDT:trade",
    from_seq: 5,
    to_seq: 7,
    count: 3,
    trace_id: "t-x-5",
    decision_id: NO_ID,
  });
  telemetry.publish({
    type: "duplicate",
    stream: "binance:BTC-USDT:trade",
    seq: 9,
    trace_id: "t-x-6",
    decision_id: NO_ID,
  });
  telemetry.publish({
    type: "gap",
    consumer: "strat-b",
    stream: "binance:BTC-USDT:trade",
    from_seq: 11,
    to_seq: 11,
    count: 1,
    trace_id: "t-x-7",
    decision_id: NO_ID,
  });
  const call = (path: string, method = "GET") =>
    handleRequest(new Request(`http://127.0.0.1${path}`, { method }), status(), { ops });
  return { dlq, telemetry, ops, call };
}

Deno.test("ops api: GET /v1/dlq lists entries newest first with totals and eviction counters", async () => {
  const { call } = setup();
  const res = await call(DLQ_PATH);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  const body = await res.json();
  assert.deepEqual(body.entries.map((e: { id: number }) => e.id), [4, 3, 2]);
  assert.equal(body.returned, 3);
  assert.equal(body.matched, 3);
  assert.equal(body.limit, OPS_LIMIT_DEFAULT);
  assert.deepEqual(body.filter, {});
  assert.deepEqual(body.evictions, { low: 1, high: 0 });
  assert.equal(body.totals.entries, 3);
  assert.equal(body.totals.entries_max, 3);
  assert.ok(body.totals.bytes > 0 && body.totals.bytes <= body.totals.bytes_max);
  assert.deepEqual(
    { ...body.by_priority.low, bytes: 0 },
    { entries: 2, bytes: 0, added: 3, evicted: 1, refused: 0 },
  );
  assert.equal(body.by_priority.high.entries, 1);
  const high = body.entries[2];
  assert.deepEqual(high, {
    id: 2,
    ts_ms: T0 + 1,
    time: "2026-01-01T00:00:00.001Z",
    priority: "high",
    reason: "exec_report_undeliverable",
    stream: "",
    consumer: "strat-b",
    trace_id: "t-x-2",
    decision_id: "d-x-2",
    payload: { client_order_id: "co-1", state: "FILLED" },
    bytes: high.bytes,
  });
});

Deno.test("ops api: /v1/dlq filters and limit", async (t) => {
  const { call } = setup();
  const ids = async (query: string) => {
    const res = await call(`${DLQ_PATH}?${query}`);
    assert.equal(res.status, 200, query);
    const body = await res.json();
    return { ids: body.entries.map((e: { id: number }) => e.id), body };
  };
  await t.step("priority", async () => {
    assert.deepEqual((await ids("priority=high")).ids, [2]);
    assert.deepEqual((await ids("priority=low")).ids, [4, 3]);
  });
  await t.step("reason, consumer, stream (combined with AND)", async () => {
    assert.deepEqual((await ids("reason=queue_full")).ids, [4]);
    assert.deepEqual((await ids("consumer=strat-a")).ids, [3]);
    assert.deepEqual((await ids("stream=binance:BTC-USDT:ticker&consumer=strat-b")).ids, [4]);
    assert.deepEqual((await ids("reason=nothing_like_it")).ids, []);
  });
  await t.step("limit keeps the newest; matched counts all", async () => {
    const { ids: got, body } = await ids("limit=1&priority=low");
    assert.deepEqual(got, [4]);
    assert.equal(body.matched, 2);
    assert.deepEqual(body.filter, { priority: "low" });
  });
});

Deno.test("ops api: GET /v1/telemetry shows recent events flat, newest first, with counts", async () => {
  const { call } = setup();
  const res = await call(TELEMETRY_PATH);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.events.map((e: { bus_seq: number }) => e.bus_seq), [3, 2, 1]);
  assert.deepEqual(body.events[1], {
    bus_seq: 2,
    ts_ms: T0 + 5,
    time: "2026-01-01T00:00:00.005Z",
    type: "duplicate",
    stream: "binance:BTC-USDT:trade",
    seq: 9,
    trace_id: "t-x-6",
    decision_id: "",
  });
  assert.equal(body.published, 3);
  assert.equal(body.counts.gap, 2);
  assert.equal(body.counts["book.resync"], 0);
  assert.deepEqual(body.ring, { size: 3, capacity: 2048 });

  const gaps = await (await call(`${TELEMETRY_PATH}?type=gap&limit=1`)).json();
  assert.equal(gaps.returned, 1);
  assert.equal(gaps.events[0].type, "gap");
  assert.equal(gaps.events[0].consumer, "strat-b");
  assert.deepEqual(gaps.filter, { type: "gap" });
});

Deno.test("ops api: bad query parameters answer 400 saying what was expected", async (t) => {
  const { call } = setup();
  const cases: [string, RegExp][] = [
    [`${DLQ_PATH}?limit=0`, /limit: expected an integer 1\.\.1000, found "0"/],
    [`${DLQ_PATH}?limit=1001`, /limit: expected an integer 1\.\.1000, found "1001"/],
    [`${DLQ_PATH}?limit=abc`, /limit: expected an integer 1\.\.1000, found "abc"/],
    [`${DLQ_PATH}?limit=1.5`, /limit: expected an integer/],
    [`${DLQ_PATH}?limit=`, /limit: expected an integer 1\.\.1000, found ""/],
    [`${DLQ_PATH}?priority=medium`, /priority: expected "low" or "high", found "medium"/],
    [
      `${DLQ_PATH}?prio=high`,
      /query parameter: expected one of limit, priority, reason, consumer, stream, found "prio"/,
    ],
    [`${DLQ_PATH}?limit=1&limit=2`, /limit: expected it once, found it repeated/],
    [
      `${DLQ_PATH}?reason=a%20b`,
      /reason: expected 1\.\.128 printable characters without spaces, found "a b"/,
    ],
    [`${DLQ_PATH}?consumer=`, /consumer: expected 1\.\.128 printable characters/],
    [`${DLQ_PATH}?stream=${"s".repeat(200)}`, /stream: expected 1\.\.128 printable characters/],
    [
      `${TELEMETRY_PATH}?type=nope`,
      /type: expected one of book\.resync, .*duplicate, trade\.gap, found "nope"/,
    ],
    [
      `${TELEMETRY_PATH}?priority=low`,
      /query parameter: expected one of limit, type, found "priority"/,
    ],
    [`${TELEMETRY_PATH}?limit=-3`, /limit: expected an integer/],
  ];
  for (const [path, message] of cases) {
    await t.step(path.slice(0, 60), async () => {
      const res = await call(path);
      assert.equal(res.status, 400);
      assert.match(res.headers.get("content-type")!, /^application\/json/);
      const body = await res.json();
      assert.match(body.error, message);
    });
  }
});

Deno.test("ops api: methods, unwired sources, route listing", async (t) => {
  const { call, ops } = setup();
  await t.step("only GET and HEAD: 405 with an allow header", async () => {
    for (const path of [DLQ_PATH, TELEMETRY_PATH]) {
      const res = await call(path, "POST");
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "GET, HEAD");
      assert.match((await res.json()).error, /method POST not allowed on \/v1\/(dlq|telemetry)/);
    }
    const head = await call(DLQ_PATH, "HEAD");
    assert.equal(head.status, 200);
    await head.body?.cancel();
  });
  await t.step("a missing source answers 503", async () => {
    const noOps = await handleRequest(new Request(`http://127.0.0.1${DLQ_PATH}`), status());
    assert.equal(noOps.status, 503);
    assert.match(
      (await noOps.json()).error,
      /expected the gateway to provide the dead-letter queue/,
    );
    const onlyDlq = routeOps(new Request(`http://127.0.0.1${TELEMETRY_PATH}`), { dlq: ops.dlq });
    assert.equal(onlyDlq?.status, 503);
    assert.match((await onlyDlq!.json()).error, /the telemetry bus, found none wired/);
  });
  await t.step("other paths are left to the next router", async () => {
    assert.equal(routeOps(new Request("http://127.0.0.1/v1/dlq/1"), ops), null);
    assert.equal(routeOps(new Request("http://127.0.0.1/v1/books"), ops), null);
    const nf = await call("/v1/dlqs");
    assert.equal(nf.status, 404);
    assert.match((await nf.json()).error, /\/v1\/dlq \/v1\/telemetry/);
    assert.ok(ROUTES.includes(DLQ_PATH) && ROUTES.includes(TELEMETRY_PATH));
  });
});

Deno.test("ops api: served by the HTTP server when wired through startHttpServer", async () => {
  const { ops } = setup();
  const srv = await startHttpServer({ host: "127.0.0.1", port: 0, status: status(), ops });
  try {
    const res = await fetch(`http://127.0.0.1:${srv.port}${DLQ_PATH}?priority=high`);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).entries.map((e: { id: number }) => e.id), [2]);
    const bad = await fetch(`http://127.0.0.1:${srv.port}${TELEMETRY_PATH}?limit=x`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await srv.shutdown();
  }
});
