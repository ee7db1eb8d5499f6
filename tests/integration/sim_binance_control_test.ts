import assert from "node:assert/strict";
import { startBinanceSim } from "../../src/sim/mod.ts";
import { sleep, TestWsClient, waitUntil, withTimeout } from "./sim_binance_ws_client.ts";

Deno.test("SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS and properties are acknowledged", async (t) => {
  const sim = await startBinanceSim({
    seed: 1,
    eventsPerSecond: 2000,
    timeScale: 0.05,
    inboundMessagesMax: 100,
  });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws`);
  try {
    await t.step("subscribe and list", async () => {
      client.send({
        method: "SUBSCRIBE",
        params: ["btcusdt@aggTrade", "btcusdt@depth@100ms"],
        id: 1,
      });
      assert.deepEqual(await client.next((m) => m.id === 1), { result: null, id: 1 });
      client.send({ method: "LIST_SUBSCRIPTIONS", id: "list2" });
      assert.deepEqual(await client.next((m) => m.id === "list2"), {
        result: ["btcusdt@aggTrade", "btcusdt@depth@100ms"],
        id: "list2",
      });
      await client.next((m) => m.e === "depthUpdate");
      // Raw connection: bare payloads.
      assert.ok(client.matching((m) => "stream" in m).length === 0);
    });
    await t.step("unsubscribe", async () => {
      client.send({ method: "UNSUBSCRIBE", params: ["btcusdt@depth@100ms"], id: 3 });
      assert.deepEqual(await client.next((m) => m.id === 3), { result: null, id: 3 });
      client.send({ method: "LIST_SUBSCRIPTIONS", id: null });
      const list = await client.next((m) => m.id === null && Array.isArray(m.result));
      assert.deepEqual(list, { result: ["btcusdt@aggTrade"], id: null });
    });
    await t.step("combined property switches the framing", async () => {
      client.send({ method: "GET_PROPERTY", params: ["combined"], id: 5 });
      assert.deepEqual(await client.next((m) => m.id === 5), { result: false, id: 5 });
      client.send({ method: "SET_PROPERTY", params: ["combined", true], id: 6 });
      assert.deepEqual(await client.next((m) => m.id === 6), { result: null, id: 6 });
      const from = client.received.length;
      const wrapped = await client.next((m) => m.stream === "btcusdt@aggTrade", 3000, from);
      assert.deepEqual(Object.keys(wrapped), ["stream", "data"]);
      client.send({ method: "GET_PROPERTY", params: ["combined"], id: 7 });
      assert.deepEqual(await client.next((m) => m.id === 7), { result: true, id: 7 });
    });
    assert.equal(sim.stats().subscriptions, 1);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("bad control messages get Binance error frames with codes 0 to 3", async () => {
  const sim = await startBinanceSim({ seed: 1, eventsPerSecond: 0, inboundMessagesMax: 100 });
  const client = await TestWsClient.open(`${sim.wsUrl}/stream`);
  try {
    const cases: [unknown, number, RegExp, unknown][] = [
      ['{"method":"SUBSCRIBE",', 3, /^Invalid JSON: expected value at line 1 column \d+$/, null],
      [
        { method: "SUBSCRIBE", params: ["BTCUSDT@trade"], id: 11 },
        2,
        /^Invalid request: invalid stream$/,
        11,
      ],
      [{ method: "SUBSCRIBE", params: ["btcusdt@bogus"], id: 12 }, 2, /invalid stream/, 12],
      [{ method: "SUBSCRIBE", params: [42], id: 13 }, 2, /invalid stream/, 13],
      [{ method: "FETCH", params: [], id: 14 }, 2, /^Invalid request: unknown variant `FETCH`/, 14],
      [{ params: ["btcusdt@trade"], id: 15 }, 2, /missing field `method`/, 15],
      [
        { method: "SUBSCRIBE", params: ["btcusdt@trade"], id: { x: 1 } },
        2,
        /request ID must be/,
        null,
      ],
      [
        { method: "SUBSCRIBE", params: ["btcusdt@trade"], id: "has-dash" },
        2,
        /request ID must be/,
        null,
      ],
      [{ method: "SET_PROPERTY", params: ["colour", true], id: 16 }, 0, /^Unknown property$/, 16],
      [
        { method: "SET_PROPERTY", params: ["combined", "yes"], id: 17 },
        1,
        /^Invalid value type: expected Boolean$/,
        17,
      ],
      [{ method: "GET_PROPERTY", params: ["colour"], id: 18 }, 0, /^Unknown property$/, 18],
      [
        { method: "SET_PROPERTY", params: [1, true], id: 19 },
        2,
        /property name must be a string/,
        19,
      ],
      [{ method: "LIST_SUBSCRIPTIONS", params: ["x"], id: 20 }, 2, /too many parameters/, 20],
    ];
    for (const [message, code, msg, id] of cases) {
      const from = client.received.length;
      client.send(message);
      const reply = await client.next<{ error: { code: number; msg: string }; id: unknown }>(
        (m) => "error" in m,
        2000,
        from,
      );
      assert.deepEqual(Object.keys(reply), ["error", "id"]);
      assert.deepEqual(Object.keys(reply.error), ["code", "msg"]);
      assert.equal(reply.error.code, code, `code for ${JSON.stringify(message)}`);
      assert.match(reply.error.msg, msg);
      assert.equal(reply.id, id);
    }
    client.send({ method: "LIST_SUBSCRIPTIONS", id: 99 });
    assert.deepEqual(await client.next((m) => m.id === 99), { result: [], id: 99 });
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("upper-case or invalid stream names in the URL are refused", async () => {
  const sim = await startBinanceSim({ seed: 1, eventsPerSecond: 0 });
  try {
    for (
      const path of [
        "/ws/BTCUSDT@trade",
        "/stream?streams=btcusdt@trade/ETHUSDT@depth",
        "/ws/btcusdt@nope",
      ]
    ) {
      const response = await fetch(`${sim.restUrl}${path}`, {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      });
      assert.equal(response.status, 400, path);
      assert.deepEqual(await response.json(), { code: 2, msg: "Invalid request: invalid stream" });
    }
    // A percent-encoded URL is accepted.
    const client = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt%40trade`);
    client.send({ method: "LIST_SUBSCRIPTIONS", id: 1 });
    assert.deepEqual(await client.next((m) => m.id === 1), { result: ["btcusdt@trade"], id: 1 });
    await client.close();
  } finally {
    await sim.close();
  }
});

Deno.test("more than 5 inbound messages in a second disconnect the client", async () => {
  const sim = await startBinanceSim({ seed: 1, eventsPerSecond: 0 });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws`);
  try {
    for (let i = 1; i <= 5; i++) client.send({ method: "LIST_SUBSCRIPTIONS", id: i });
    await client.until(() => client.received.length === 5, 2000, "five replies");
    assert.equal(client.closeEvent, null);
    client.send({ method: "LIST_SUBSCRIPTIONS", id: 6 });
    const closed = await withTimeout(client.closed, 2000, "disconnect");
    assert.equal(closed.code, 1008);
    assert.equal(client.received.length, 5);
    await waitUntil(() => sim.stats().connections === 0, 2000, "server-side close");
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("a connection holds at most 1024 streams", async () => {
  const sim = await startBinanceSim({ seed: 1, eventsPerSecond: 0 });
  const client = await TestWsClient.open(`${sim.wsUrl}/ws`);
  try {
    const names = Array.from({ length: 1025 }, (_, i) => `coin${i}usdt@trade`);
    client.send({ method: "SUBSCRIBE", params: names, id: 1 });
    const tooMany = await client.next<{ error: { code: number; msg: string } }>((m) => m.id === 1);
    assert.equal(tooMany.error.code, 2);
    assert.match(tooMany.error.msg, /too many streams/);
    client.send({ method: "SUBSCRIBE", params: names.slice(0, 1024), id: 2 });
    assert.deepEqual(await client.next((m) => m.id === 2), { result: null, id: 2 });
    client.send({ method: "SUBSCRIBE", params: [names[1024]], id: 3 });
    assert.equal((await client.next<{ error: { code: number } }>((m) => m.id === 3)).error.code, 2);
    // Re-subscribing to a held stream does not count twice.
    client.send({ method: "SUBSCRIBE", params: [names[0]], id: 4 });
    assert.deepEqual(await client.next((m) => m.id === 4), { result: null, id: 4 });
    assert.equal(sim.stats().subscriptions, 1024);
  } finally {
    await client.close();
    await sim.close();
  }
  const small = await startBinanceSim({ seed: 1, eventsPerSecond: 0, streamsMax: 2 });
  try {
    const response = await fetch(`${small.restUrl}/stream?streams=a1@trade/a2@trade/a3@trade`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    assert.equal(response.status, 400);
    assert.match((await response.json()).msg, /too many streams/);
  } finally {
    await small.close();
  }
});

Deno.test("connections are closed at their maximum lifetime, after a serverShutdown notice", async () => {
  const sim = await startBinanceSim({
    seed: 1,
    eventsPerSecond: 500,
    connectionLifetimeMs: 400,
    serverShutdownNoticeMs: 150,
  });
  const raw = await TestWsClient.open(`${sim.wsUrl}/ws/btcusdt@trade`);
  const combined = await TestWsClient.open(`${sim.wsUrl}/stream?streams=btcusdt@trade`);
  const openedAt = Date.now();
  try {
    const [rawClose, combinedClose] = await withTimeout(
      Promise.all([raw.closed, combined.closed]),
      3000,
      "lifetime close",
    );
    const elapsed = Date.now() - openedAt;
    assert.ok(elapsed >= 300, `expected the close after about 400 ms, found ${elapsed} ms`);
    assert.equal(rawClose.code, 1000);
    assert.equal(combinedClose.code, 1000);
    const rawNotice = raw.matching((m) => m.e === "serverShutdown");
    assert.equal(rawNotice.length, 1);
    assert.deepEqual(Object.keys(rawNotice[0]), ["e", "E"]);
    const combinedNotice = combined.matching<{ data: { e: string } }>((m) =>
      m.stream === "!serverShutdown"
    );
    assert.equal(combinedNotice.length, 1);
    assert.equal(combinedNotice[0].data.e, "serverShutdown");
    // The notice comes before the end: data frames may follow it, nothing after the close.
    assert.ok(
      raw.received.findIndex((r) => (r.json as { e?: string }).e === "serverShutdown") >= 0,
    );
  } finally {
    await raw.close();
    await combined.close();
    await sim.close();
  }
});

/** A WebSocket handshake over raw TCP, then reads frames without ever answering a ping. */
async function silentPeer(
  port: number,
  watchMs: number,
): Promise<{ opcodes: number[]; pingAtMs: number; endAtMs: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const opcodes: number[] = [];
  let pingAtMs = -1;
  let endAtMs = -1;
  const start = performance.now();
  try {
    await conn.write(new TextEncoder().encode(
      "GET /ws/btcusdt@depth HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ));
    const buffer = new Uint8Array(1 << 16);
    let pending = new Uint8Array(0);
    let headerDone = false;
    const timer = setTimeout(() => conn.close(), watchMs);
    try {
      while (true) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        const joined = new Uint8Array(pending.length + n);
        joined.set(pending);
        joined.set(buffer.subarray(0, n), pending.length);
        pending = joined;
        if (!headerDone) {
          const text = new TextDecoder().decode(pending);
          const end = text.indexOf("\r\n\r\n");
          if (end === -1) continue;
          assert.match(text, /^HTTP\/1\.1 101/);
          pending = pending.subarray(end + 4);
          headerDone = true;
        }
        // Server frames are unmasked: opcode in byte 0, length in byte 1 (+2 or +8 bytes).
        while (pending.length >= 2) {
          let length = pending[1] & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (pending.length < 4) break;
            length = (pending[2] << 8) | pending[3];
            offset = 4;
          } else if (length === 127) {
            if (pending.length < 10) break;
            length = Number(
              new DataView(pending.buffer, pending.byteOffset + 2, 8).getBigUint64(0),
            );
            offset = 10;
          }
          if (pending.length < offset + length) break;
          const opcode = pending[0] & 0x0f;
          opcodes.push(opcode);
          if (opcode === 0x9 && pingAtMs < 0) pingAtMs = performance.now() - start;
          pending = pending.subarray(offset + length);
        }
      }
      endAtMs = performance.now() - start;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the timer or the peer.
    }
  }
  return { opcodes, pingAtMs, endAtMs };
}

Deno.test("silent peers are pinged and dropped; the built-in client's pongs keep it open", async () => {
  const sim = await startBinanceSim({ seed: 1, eventsPerSecond: 0, pingIntervalMs: 200 });
  try {
    const peer = await silentPeer(sim.port, 3000);
    assert.ok(peer.opcodes.includes(0x9), `expected a ping frame, found opcodes ${peer.opcodes}`);
    assert.ok(
      peer.pingAtMs >= 150,
      `expected the ping after about 200 ms of silence, found ${peer.pingAtMs}`,
    );
    assert.ok(peer.endAtMs < 2500, `expected a drop after about 400 ms, found ${peer.endAtMs}`);
    assert.equal(peer.opcodes.at(-1), 0x8);
    const client = await TestWsClient.open(`${sim.wsUrl}/ws`);
    await sleep(1000);
    assert.equal(client.closeEvent, null);
    await client.close();
  } finally {
    await sim.close();
  }
});
