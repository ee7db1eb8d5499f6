import assert from "node:assert/strict";
import { startBinanceSim } from "../../src/sim/mod.ts";
import { getJson, sleep, TestWsClient, waitUntil, withTimeout } from "./sim_binance_ws_client.ts";

interface DepthEvent {
  U: number;
  u: number;
}

const FAST = { eventsPerSecond: 3000, timeScale: 0.2, symbols: ["BTCUSDT", "ETHUSDT"] } as const;

Deno.test("sequence gap: diff events go missing and U jumps past previous u + 1", async () => {
  const sim = await startBinanceSim({ seed: 21, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@depth@100ms`);
  try {
    await client.until(() => client.received.length >= 3, 3000, "three events");
    const armedAt = client.received.length;
    sim.faults.sequenceGap("BTCUSDT", { eventsDropped: 2 });
    await client.until(() => client.received.length >= armedAt + 4, 3000, "events after the gap");
    const events = client.received.map((r) => r.json as DepthEvent);
    const gaps = [];
    for (let i = 1; i < events.length; i++) {
      if (events[i].U !== events[i - 1].u + 1) gaps.push(i);
    }
    assert.equal(gaps.length, 1, `expected one gap, found ${gaps.length}`);
    assert.ok(gaps[0] >= armedAt - 1);
    assert.ok(events[gaps[0]].U > events[gaps[0] - 1].u + 1);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("duplicate diff: an event is sent twice (stale on the second copy)", async () => {
  const sim = await startBinanceSim({ seed: 22, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/ethusdt@depth@100ms`);
  try {
    await client.until(() => client.received.length >= 2, 3000, "two events");
    sim.faults.duplicateDiff("ETHUSDT");
    await client.until(
      () => {
        const texts = client.received.map((r) => r.text);
        return texts.some((text, i) => i > 0 && text === texts[i - 1]);
      },
      3000,
      "a repeated frame",
    );
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("dropped connections: abrupt without a close frame, or graceful", async () => {
  const sim = await startBinanceSim({ seed: 23, ...FAST });
  try {
    const abrupt = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
    const other = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
    const id = sim.connections()[0].id;
    assert.equal(sim.faults.dropConnections({ connectionId: id }), 1);
    const cut = await withTimeout(abrupt.closed, 2000, "abrupt close");
    assert.equal(cut.wasClean, false);
    assert.notEqual(cut.code, 1000);
    assert.equal(other.closeEvent, null);
    assert.equal(sim.faults.dropConnections({ abrupt: false }), 1);
    const clean = await withTimeout(other.closed, 2000, "graceful close");
    assert.equal(clean.code, 1000);
    assert.equal(clean.wasClean, true);
    await waitUntil(() => sim.stats().connections === 0, 2000, "connections gone");
  } finally {
    await sim.close();
  }
});

Deno.test("silent stall: the connection stays open but nothing arrives until it lifts", async () => {
  const sim = await startBinanceSim({ seed: 24, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
  try {
    await client.until(() => client.received.length > 0, 3000, "first trade");
    sim.faults.stall();
    const stalledAtMs = Date.now();
    await sleep(400);
    // Frames already in flight may still land; nothing generated after the stall may.
    const during = client.received.length;
    assert.equal(
      client.received.filter((r) => (r.json as { E: number }).E > stalledAtMs).length,
      0,
    );
    assert.equal(client.closeEvent, null);
    const info = sim.connections()[0];
    assert.ok(info.stalled && info.framesDropped > 0);
    sim.faults.unstall();
    await client.until(() => client.received.length > during, 3000, "frames after the stall");
    sim.faults.stall({ durationMs: 200 });
    const secondStallMs = Date.now();
    await client.until(
      () => client.received.some((r) => (r.json as { E: number }).E >= secondStallMs + 200),
      3000,
      "the stall lifting by itself",
    );
    const lost = client.received.filter((r) => {
      const e = (r.json as { E: number }).E;
      return e > secondStallMs && e < secondStallMs + 190;
    });
    assert.equal(lost.length, 0);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("slow server: every frame is delayed", async () => {
  const sim = await startBinanceSim({ seed: 25, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
  try {
    await client.until(() => client.received.length > 0, 3000, "first trade");
    sim.faults.slowServer({ delayMs: 300 });
    const armedAtMs = Date.now();
    // Frames generated before the fault may still be in flight: look only at later ones.
    const after = () => client.received.filter((r) => (r.json as { E: number }).E > armedAtMs);
    await client.until(() => after().length >= 5, 3000, "delayed trades");
    const late = after().map((r) => r.atMs - (r.json as { E: number }).E);
    assert.ok(
      late.every((ms) => ms >= 250),
      `expected delays of about 300 ms, found ${late.slice(0, 5)}`,
    );
    // New connections inherit a global delay.
    const second = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
    assert.equal(sim.connections().at(-1)!.sendDelayMs, 300);
    await second.close();
    sim.faults.slowServer({ delayMs: 0 });
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("malformed frames: truncated and invalid JSON", async () => {
  const sim = await startBinanceSim({ seed: 26, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/stream?streams=btcusdt@trade`);
  try {
    await client.until(() => client.received.length > 0, 3000, "first trade");
    sim.faults.malformedFrame({ malformed: "truncated" });
    sim.faults.malformedFrame({ malformed: "invalidJson", count: 2 });
    await client.until(
      () => client.received.filter((r) => r.json === undefined).length === 3,
      3000,
      "bad frames",
    );
    const bad = client.received.filter((r) => r.json === undefined).map((r) => r.text);
    assert.ok(bad[0].startsWith('{"stream":"btcusdt@trade"'));
    assert.equal(client.closeEvent, null);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("stale snapshot: lastUpdateId older than the first buffered event, then fresh", async () => {
  const sim = await startBinanceSim({ seed: 27, ...FAST });
  try {
    sim.faults.staleSnapshot({ symbol: "BTCUSDT" });
    const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@depth@100ms`);
    try {
      await client.until(() => client.received.length > 0, 3000, "first event");
      const firstU = (client.received[0].json as DepthEvent).U;
      const stale = (await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=1000`))
        .body as {
          lastUpdateId: number;
        };
      assert.ok(stale.lastUpdateId < firstU, `stale ${stale.lastUpdateId} vs first U ${firstU}`);
      const fresh = (await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=1000`))
        .body as {
          lastUpdateId: number;
        };
      assert.ok(fresh.lastUpdateId >= firstU);
    } finally {
      await client.close();
    }
  } finally {
    await sim.close();
  }
});

Deno.test("delayed snapshot: the depth answer waits", async () => {
  const sim = await startBinanceSim({ seed: 28, ...FAST });
  try {
    sim.faults.delaySnapshot({ delayMs: 300 });
    const started = Date.now();
    const { status } = await getJson(`${sim.restUrl}/api/v3/depth?symbol=ETHUSDT`);
    assert.equal(status, 200);
    assert.ok(Date.now() - started >= 280);
    const quick = Date.now();
    await getJson(`${sim.restUrl}/api/v3/depth?symbol=ETHUSDT`);
    assert.ok(Date.now() - quick < 280);
    // A delayed answer pending at close time does not keep the simulator alive.
    sim.faults.delaySnapshot({ delayMs: 60_000 });
    const pending = fetch(`${sim.restUrl}/api/v3/depth?symbol=ETHUSDT`).then((r) => r.text()).catch(
      () => "",
    );
    await sleep(50);
    await sim.close();
    await pending;
  } finally {
    await sim.close();
  }
});

Deno.test("ack delay lets data frames arrive before the SUBSCRIBE ack", async () => {
  const sim = await startBinanceSim({ seed: 29, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws`);
  try {
    sim.faults.ackDelay(300);
    client.send({ method: "SUBSCRIBE", params: ["btcusdt@trade"], id: 1 });
    await client.next((m) => m.id === 1);
    const ackIndex = client.received.findIndex((r) => (r.json as { id?: number }).id === 1);
    assert.ok(ackIndex > 0, "data frames came first");
    assert.ok(
      client.received.slice(0, ackIndex).every((r) => (r.json as { e?: string }).e === "trade"),
    );
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("serverShutdown notice on demand, and the REST weight-limit knob", async () => {
  const sim = await startBinanceSim({ seed: 30, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/stream?streams=btcusdt@trade`);
  try {
    assert.equal(sim.faults.serverShutdown(), 1);
    const notice = await client.next<{ stream: string; data: { e: string; E: number } }>((m) =>
      m.stream === "!serverShutdown"
    );
    assert.equal(notice.data.e, "serverShutdown");
    sim.faults.setWeightLimit(1);
    assert.equal((await getJson(`${sim.restUrl}/api/v3/ping`)).status, 200);
    assert.equal((await getJson(`${sim.restUrl}/api/v3/ping`)).status, 429);
    sim.faults.clear();
    assert.equal((await getJson(`${sim.restUrl}/api/v3/ping`)).status, 200);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("admin endpoint drives faults and reports state out of process", async () => {
  const sim = await startBinanceSim({ seed: 31, ...FAST });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${sim.restUrl}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  try {
    const stats = await getJson(`${sim.restUrl}/_sim/stats`);
    assert.equal((stats.body as { connections: number }).connections, 1);
    const connections = (await getJson(`${sim.restUrl}/_sim/connections`)).body as {
      id: number;
      streams: string[];
    }[];
    assert.deepEqual(connections[0].streams, ["btcusdt@trade"]);
    const book = (await getJson(`${sim.restUrl}/_sim/book?symbol=BTCUSDT&limit=3`)).body as {
      bids: unknown[];
    };
    assert.equal(book.bids.length, 3);
    assert.deepEqual(await post("/_sim/fault", { kind: "sequenceGap", symbol: "BTCUSDT" }), {
      status: 200,
      body: { ok: true },
    });
    const bad = await post("/_sim/fault", { kind: "sequenceGap", symbol: "NOPE" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^symbol: expected a simulated symbol/);
    assert.equal((await post("/_sim/fault", { kind: "explode" })).status, 400);
    assert.equal((await post("/_sim/fault", { kind: "slowServer", delayMs: "x" })).status, 400);
    assert.deepEqual(await post("/_sim/pause", {}), { status: 200, body: { ok: true } });
    assert.equal(sim.stats().paused, true);
    await post("/_sim/resume", {});
    const dropped = await post("/_sim/fault", {
      kind: "dropConnections",
      abrupt: false,
      connectionId: connections[0].id,
    });
    assert.deepEqual(dropped.body, { ok: true, affected: 1 });
    assert.equal((await withTimeout(client.closed, 2000, "close")).code, 1000);
  } finally {
    await client.close();
    await sim.close();
  }
});
