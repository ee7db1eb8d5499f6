/**
 * The whole gateway end to end: `Gateway.start` with the embedded Binance simulator (real
 * sockets on 127.0.0.1, port 0) -> adapter -> conductor -> dispatcher -> the consumer WebSocket
 * endpoint, read by a remote consumer over Deno's WebSocket; then the HTTP status routes,
 * `/metrics`, and a shutdown that drains every pool.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";
import { sleep, waitFor } from "../support/binance_adapter_harness.ts";
import { StreamClient, type WireMessage } from "../support/gateway_stream_client.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

const ARGS = [
  "--data-dir",
  ":memory:",
  "--providers",
  "binance",
  "--port",
  "0",
  "--view",
  "off",
  "--symbols",
  "BTC-USDT,ETH-USDT",
  "--sim-rate",
  "2000",
];
const SYMBOL = "BTC-USDT";

async function getText(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/**
 * Checks that the book events of one symbol (in arrival order) chain: every update after a
 * snapshot continues the latest snapshot or update exactly (`seq_first = previous seq + 1`).
 * Updates before the first snapshot are not checked. Returns how many updates were checked.
 */
function continuedUpdates(book: WireMessage[]): number {
  let prev: number | null = null;
  let checked = 0;
  for (const m of book) {
    if (m.kind === "book_snapshot") {
      prev = m.seq as number;
      continue;
    }
    if (prev === null) continue;
    const first = (m.seq_first ?? m.seq) as number;
    assert.equal(first, prev + 1, `${m.symbol} update ${first}..${m.seq} after ${prev}`);
    prev = m.seq as number;
    checked++;
  }
  return checked;
}

/** Log lines (JSON) the gateway wrote, parsed. */
function parsed(lines: string[]): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

Deno.test("gateway e2e: simulator -> adapter -> dispatcher -> WebSocket consumer", async (t) => {
  const lines: string[] = [];
  await setupLogging({ level: "info", format: "json", write: (l) => lines.push(l) });
  const result = loadConfig(ARGS, { env: {} });
  assert.equal(result.kind, "run");
  if (result.kind !== "run") return;
  const gw = await Gateway.start(result.config, { view: false });
  let client: StreamClient | null = null;
  try {
    const { host, port } = gw.httpAddress;
    const base = `http://${host}:${port}`;

    await t.step("/readyz answers 200 once market data started", async () => {
      const deadline = performance.now() + 5000;
      let last = await getText(`${base}/readyz`);
      while (last.status !== 200 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        last = await getText(`${base}/readyz`);
      }
      assert.equal(last.status, 200, last.text);
    });

    await t.step("books go LIVE before anyone subscribes", async () => {
      // Subscribing late is the common case: the consumer must still get a snapshot first.
      const deadline = performance.now() + 5000;
      let states: string[] = [];
      while (performance.now() < deadline) {
        const { text } = await getText(`${base}/v1/books`);
        states = (JSON.parse(text) as { books: { state: string }[] }).books.map((b) => b.state);
        if (states.length === 2 && states.every((s) => s === "LIVE")) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(states, ["LIVE", "LIVE"]);
    });

    const c = await StreamClient.connect(host, port, { consumerId: "e2e-strat" });
    client = c;

    await t.step("subscribe commands are acked with the routing version", async () => {
      const kinds = ["book_snapshot", "book_update", "trade"];
      const versions: number[] = [];
      for (const [i, kind] of kinds.entries()) {
        const reqId = `r${i + 1}`;
        c.send({
          v: 1,
          type: "subscribe",
          req_id: reqId,
          provider: "binance",
          symbol: SYMBOL,
          kind,
        });
        await waitFor(`ack ${reqId}`, () => c.ack(reqId) !== undefined);
        const ack = c.ack(reqId)!;
        assert.equal(ack.ok, true, JSON.stringify(ack));
        assert.equal(ack.v, 1);
        assert.ok(Number.isSafeInteger(ack.routing_version), JSON.stringify(ack));
        versions.push(ack.routing_version as number);
        // Let book updates go by between the snapshot and the update subscriptions: the
        // updates must still continue the last snapshot this consumer received.
        if (kind === "book_snapshot") await sleep(250);
      }
      assert.ok(versions[0] < versions[1] && versions[1] < versions[2], `${versions}`);
    });

    await t.step(
      "a book snapshot first, then continuous updates and increasing trades",
      async () => {
        await waitFor(
          "a snapshot, 10 updates and 30 trades",
          () =>
            c.events("book_snapshot", SYMBOL).length >= 1 &&
            c.events("book_update", SYMBOL).length >= 10 &&
            c.events("trade", SYMBOL).length >= 30,
          { timeoutMs: 5000 },
        );
        const book = c.messages.filter((m) =>
          m.type === "event" && m.symbol === SYMBOL &&
          (m.kind === "book_snapshot" || m.kind === "book_update")
        );
        assert.equal(book[0].kind, "book_snapshot", "the snapshot comes before any update");
        const snap = book[0];
        assert.equal(snap.provider, "binance");
        assert.ok((snap.bids as unknown[]).length > 0 && (snap.asks as unknown[]).length > 0);
        assert.equal(snap.id, `binance:${SYMBOL}:book_snapshot:${snap.seq}`);
        assert.ok(continuedUpdates(book) >= 10);
        assert.ok(
          c.events("book_snapshot", SYMBOL).length >= 2,
          "a second snapshot when the updates were subscribed",
        );
        const trades = c.events("trade", SYMBOL);
        for (let i = 1; i < trades.length; i++) {
          assert.ok(
            (trades[i].seq as number) > (trades[i - 1].seq as number),
            `trade ${trades[i].seq} after ${trades[i - 1].seq}`,
          );
        }
        for (const tr of trades) {
          assert.match(tr.price as string, /^\d+\.\d+$/);
        }
        assert.ok(
          c.events().every((m: WireMessage) => m.symbol === SYMBOL),
        );
      },
    );

    await t.step(
      "a consumer subscribing to updates first still gets a snapshot to continue",
      async () => {
        const late = await StreamClient.connect(host, port, { consumerId: "e2e-late" });
        try {
          for (const [reqId, kind] of [["u1", "book_update"], ["s1", "book_snapshot"]]) {
            late.send({
              v: 1,
              type: "subscribe",
              req_id: reqId,
              provider: "binance",
              symbol: "ETH-USDT",
              kind,
            });
            await waitFor(`ack ${reqId}`, () => late.ack(reqId) !== undefined);
            assert.equal(late.ack(reqId)!.ok, true);
          }
          await waitFor("a snapshot and 5 updates after it", () => {
            const book = late.events(undefined, "ETH-USDT");
            const at = book.findIndex((m) => m.kind === "book_snapshot");
            return at >= 0 && book.length - at > 5;
          });
          assert.ok(continuedUpdates(late.events(undefined, "ETH-USDT")) >= 5);
          assert.equal(
            c.events(undefined, "ETH-USDT").length,
            0,
            "nothing of ETH to the other one",
          );
        } finally {
          await late.close();
        }
      },
    );

    await t.step("/v1/books shows both books LIVE", async () => {
      const { status, text } = await getText(`${base}/v1/books`);
      assert.equal(status, 200);
      const books = (JSON.parse(text) as { books: Record<string, unknown>[] }).books;
      assert.deepEqual(books.map((b) => `${b.symbol}:${b.state}`).sort(), [
        "BTC-USDT:LIVE",
        "ETH-USDT:LIVE",
      ]);
      for (const b of books) assert.ok(b.bestBid !== "" && b.bestAsk !== "");
    });

    await t.step("/metrics parses as Prometheus text with pool and pipeline series", async () => {
      const { status, text } = await getText(`${base}/metrics`);
      assert.equal(status, 200);
      const samples = parsePrometheusText(text);
      for (const pool of ["ws_frame", "provider_raw", "canonical_event"]) {
        assert.ok(samples.has(`switchyard_pool_in_flight{pool="${pool}"}`), pool);
        assert.ok(samples.get(`switchyard_pool_acquires_total{pool="${pool}"}`)! > 0, pool);
      }
      assert.equal(
        samples.get(`switchyard_book_state{provider="binance",symbol="${SYMBOL}",state="LIVE"}`),
        1,
      );
      assert.ok(samples.get('switchyard_adapter_frames_total{provider="binance"}')! > 0);
      assert.ok(
        samples.get('switchyard_adapter_events_total{provider="binance",kind="trade"}')! > 0,
      );
      assert.ok(samples.get("switchyard_dispatch_events_total")! > 0);
      assert.ok(samples.get("switchyard_ws_messages_sent_total")! > 0);
      // Delivery latency by provider and kind (never by symbol), per-consumer queue families.
      assert.ok(
        samples.get('switchyard_delivery_latency_ms_count{provider="binance",kind="trade"}')! > 0,
      );
      assert.ok(![...samples.keys()].some((k) => /^switchyard_delivery_latency.*symbol=/.test(k)));
      for (const f of ["queue_events", "exec_reports_pending", "dropped_total", "gaps_total"]) {
        assert.ok(samples.has(`switchyard_consumer_${f}{consumer="e2e-strat"}`), f);
      }
    });

    await t.step("shutdown drains every pool", async () => {
      await c.close();
      client = null;
      await gw.shutdown("e2e test done");
      assert.equal(gw.poolManager.totalInFlight(), 0);
      for (const s of gw.poolManager.stats()) {
        assert.equal(s.inFlight, 0, s.name);
        assert.equal(s.acquires, s.releases, s.name);
      }
      const drained = parsed(lines).find((l) => String(l.msg).startsWith("pools drained"));
      assert.ok(drained, "a 'pools drained' log line");
      assert.equal(drained.clean, true);
      const errors = parsed(lines).filter((l) => l.level === "error" || l.level === "fatal");
      assert.deepEqual(errors, []);
    });
  } finally {
    await client?.close();
    await gw.shutdown("e2e test cleanup");
    await teardownLogging();
  }
});
