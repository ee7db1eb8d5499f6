/**
 * Merged subscriptions end to end: a real HTTP/WebSocket server on 127.0.0.1 (port 0), a real
 * Conductor, Dispatcher, MergedStreams registry and pools, fed synthetic canonical trades from
 * two fake providers ("binance" and "okx"), and Deno's built-in WebSocket client.
 */

import assert from "node:assert/strict";
import { Conductor, MergedStreams } from "../../src/conductor/mod.ts";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../../src/dispatcher/mod.ts";
import { BoundedPool } from "../../src/pool/mod.ts";
import { CanonicalEvent, MergedEvent, mergedFromWire } from "../../src/schema/mod.ts";
import {
  type GatewayStatus,
  type RunningHttpServer,
  startHttpServer,
} from "../../src/server/http_server.ts";
import { StreamServer } from "../../src/server/stream_server.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { newDecisionId, NO_ID, TelemetryBus } from "../../src/telemetry/mod.ts";
import { sampleTrade } from "../support/schema_samples.ts";

const WAIT_MS = 3000;
const WINDOW_MS = 80;

type Message = Record<string, unknown>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(what: string, cond: () => boolean): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > WAIT_MS) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A plain WebSocket client collecting every message (object or array frames). */
class Client {
  readonly messages: Message[] = [];
  #closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e: MessageEvent) => {
      const frame = JSON.parse(e.data as string);
      if (Array.isArray(frame)) this.messages.push(...frame);
      else this.messages.push(frame);
    };
    this.#closed = new Promise((resolve) => {
      ws.onclose = () => resolve();
    });
  }

  static async connect(port: number, consumerId: string): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?consumer=${consumerId}`);
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
    });
    return client;
  }

  of(type: string): Message[] {
    return this.messages.filter((m) => m.type === type);
  }

  async command(cmd: Message): Promise<Message> {
    this.ws.send(JSON.stringify(cmd));
    const reqId = cmd.req_id;
    await waitUntil(`ack ${reqId}`, () => this.of("ack").some((a) => a.req_id === reqId));
    return this.of("ack").find((a) => a.req_id === reqId)!;
  }

  async close(): Promise<void> {
    this.ws.close(1000, "done");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("close timed out")), WAIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

Deno.test("ws: merged_subscribe delivers merged windows of two providers until merged_unsubscribe", async (t) => {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 16,
    create: () => new CanonicalEvent(),
    debug: true,
  });
  const mergedPool = new BoundedPool<MergedEvent>({
    name: "merged",
    capacity: 4,
    create: () => new MergedEvent(),
    debug: true,
  });
  const routes = new RoutingTable<Consumer>();
  const dispatcher = new Dispatcher({ routes, pool });
  const conductor = new Conductor({ sink: dispatcher });
  const telemetry = new TelemetryBus();
  const merged = new MergedStreams({
    conductor,
    pool: mergedPool,
    versions: routes,
    onSuppressed: (info) =>
      telemetry.publish({
        type: "merge.suppressed_partial",
        ...info,
        trace_id: NO_ID,
        decision_id: newDecisionId(),
      }),
  });
  const consumers = new ConsumerRegistry({ routes, merged });
  const metrics = new MetricsRegistry();
  const stream = new StreamServer({ consumers });
  const status: GatewayStatus = {
    ready: () => true,
    notReadyReason: () => "",
    pools: () => [pool.stats(), mergedPool.stats()],
    codec: () => ({ summary: "v8-json" }),
    metrics,
    consumers,
    routing: () => routes.snapshot(),
  };
  const http: RunningHttpServer = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    status,
    stream,
    metrics,
  });
  const base = `http://127.0.0.1:${http.port}`;
  let seq = 0;
  const ingest = (provider: string): void => {
    const ev = pool.tryAcquire();
    assert.ok(ev !== null, "expected a free pooled event");
    seq++;
    ev.copyFrom(sampleTrade({ provider, seq, tradeId: String(seq), recvTsMs: Date.now() }));
    conductor.ingest(ev);
  };
  const c = await Client.connect(http.port, "strat-m");
  try {
    await t.step("merged_subscribe is acked with the bumped routing version", async () => {
      const before = routes.version;
      const ack = await c.command({
        v: 1,
        type: "merged_subscribe",
        req_id: "m1",
        symbol: "BTC-USDT",
        kind: "trade",
        providers: ["okx", "binance"],
        window_ms: WINDOW_MS,
        max_events: 10,
        partial_policy: "suppress",
      });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      assert.equal(ack.routing_version, before + 1);
      assert.equal(ack.routing_version, routes.version);
      assert.equal(conductor.stats().mergeStages, 1);
    });

    await t.step(
      "a complete window arrives as one merged message with both fragments",
      async () => {
        ingest("binance");
        ingest("okx");
        await waitUntil("a merged message", () => c.of("merged").length === 1);
        const wire = c.of("merged")[0];
        const m = mergedFromWire(wire);
        assert.deepEqual(m.providers, ["binance", "okx"]);
        assert.deepEqual(m.missing, []);
        assert.deepEqual(m.fragments.map((f) => f.provider).sort(), ["binance", "okx"]);
        assert.equal(m.symbol, "BTC-USDT");
        assert.equal(m.closeReason, "time");
        assert.equal(m.routingVersion, routes.version);
        assert.equal(mergedPool.inFlightCount(), 0, "the pooled merged event was released");
      },
    );

    await t.step("a 1-of-2 window is suppressed and reported on the telemetry bus", async () => {
      ingest("binance");
      await waitUntil(
        "a suppressed window",
        () => telemetry.count("merge.suppressed_partial") === 1,
      );
      const rec = telemetry.recent(10).find((r) => r.event.type === "merge.suppressed_partial");
      assert.ok(rec !== undefined && rec.event.type === "merge.suppressed_partial");
      assert.deepEqual(rec.event.missing_providers, ["okx"]);
      assert.notEqual(rec.event.decision_id, NO_ID);
      await sleep(20);
      assert.equal(c.of("merged").length, 1, "nothing emitted for the partial window");
    });

    await t.step("the HTTP control API lists, adds and removes merged subscriptions", async () => {
      const url = `${base}/v1/consumers/strat-m/merged-subscriptions`;
      const listed = await (await fetch(url)).json();
      assert.deepEqual(listed.merged_subscriptions, [{
        symbol: "BTC-USDT",
        kind: "trade",
        providers: ["binance", "okx"],
        window_ms: WINDOW_MS,
        max_events: 10,
        partial_policy: "suppress",
      }]);
      const body = { symbol: "ETH-USDT", kind: "trade", providers: ["binance", "okx"] };
      const added = await fetch(url, { method: "POST", body: JSON.stringify(body) });
      assert.equal(added.status, 200);
      assert.equal((await added.json()).ok, true);
      assert.equal(merged.size, 2);
      const removed = await fetch(url, { method: "DELETE", body: JSON.stringify(body) });
      assert.equal(removed.status, 200);
      const ack = await removed.json();
      assert.equal(ack.ok, true);
      assert.equal(ack.routing_version, routes.version);
      assert.equal(merged.size, 1);
    });

    await t.step("merged_unsubscribe stops delivery and closes the window", async () => {
      const ack = await c.command({
        v: 1,
        type: "merged_unsubscribe",
        req_id: "m2",
        symbol: "BTC-USDT",
        kind: "trade",
        providers: ["binance", "okx"],
      });
      assert.equal(ack.ok, true);
      assert.equal(merged.size, 0);
      assert.equal(conductor.stats().mergeStages, 0);
      ingest("binance");
      ingest("okx");
      await sleep(WINDOW_MS + 40);
      assert.equal(c.of("merged").length, 1, "no merged message after unsubscribe");
    });
  } finally {
    await c.close();
    await http.shutdown();
    merged.close();
    dispatcher.close();
    consumers.close();
  }
  assert.equal(pool.inFlightCount(), 0, "every pooled event was released");
  assert.equal(mergedPool.inFlightCount(), 0, "every merged event was released");
});
