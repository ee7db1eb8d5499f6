import assert from "node:assert/strict";
import {
  type WsCloseInfo,
  WsConnection,
  type WsConnectionEvent,
  type WsConnectionOptions,
  type WsOpenInfo,
} from "../../src/adapter/shared/ws_connection.ts";

// ---- test scaffolding ------------------------------------------------------------------------

const WAIT_MS_MAX = 3_000;

/** Polls `predicate` every 5 ms; throws after `timeoutMs` naming what was awaited. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = WAIT_MS_MAX) {
  const startMs = performance.now();
  while (!predicate()) {
    if (performance.now() - startMs > timeoutMs) {
      throw new Error(`expected ${what} within ${timeoutMs} ms, found it still false`);
    }
    await sleep(5);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface WsTestServer {
  port: number;
  url: string;
  /** Every server-side socket, in accept order. */
  sockets: WebSocket[];
  /** Text received from clients, per socket index. */
  received: string[][];
  shutdown(): Promise<void>;
}

/**
 * A Deno.serve + upgradeWebSocket server on 127.0.0.1; `onSocket` runs once per connection.
 * `refuse(n)` true answers the n-th upgrade request (from 0) with HTTP 503 instead.
 */
function serveWs(
  onSocket: (socket: WebSocket, index: number) => void,
  port = 0,
  refuse: (requestIndex: number) => boolean = () => false,
): WsTestServer {
  const sockets: WebSocket[] = [];
  const received: string[][] = [];
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
    if (refuse(requests++)) return new Response("busy", { status: 503 });
    const { socket, response } = Deno.upgradeWebSocket(req);
    const index = sockets.length;
    sockets.push(socket);
    received.push([]);
    socket.addEventListener("message", (e) => received[index].push(String(e.data)));
    onSocket(socket, index);
    return response;
  });
  const bound = server.addr.port;
  return {
    port: bound,
    url: `ws://127.0.0.1:${bound}/`,
    sockets,
    received,
    async shutdown() {
      for (const s of sockets) {
        if (s.readyState === WebSocket.OPEN) s.close(1001, "test server down");
      }
      await server.shutdown();
    },
  };
}

interface Recorder {
  messages: { text: string; recvTsMs: number; connId: number }[];
  opens: WsOpenInfo[];
  closes: WsCloseInfo[];
  events: WsConnectionEvent[];
  options: Pick<WsConnectionOptions, "onMessage" | "onOpen" | "onClose" | "onEvent">;
}

function recorder(): Recorder {
  const r: Recorder = {
    messages: [],
    opens: [],
    closes: [],
    events: [],
    options: {
      onMessage: (text, recvTsMs, connId) => r.messages.push({ text, recvTsMs, connId }),
      onOpen: (info) => {
        r.opens.push(info);
      },
      onClose: (info) => r.closes.push(info),
      onEvent: (event) => r.events.push(event),
    },
  };
  return r;
}

function eventsOf<T extends WsConnectionEvent["type"]>(
  r: Recorder,
  type: T,
): Extract<WsConnectionEvent, { type: T }>[] {
  return r.events.filter((e): e is Extract<WsConnectionEvent, { type: T }> => e.type === type);
}

// ---- tests -------------------------------------------------------------------------------------

Deno.test("ws connection delivers messages with receive time and connId, and sends", async () => {
  const server = serveWs((socket) => {
    socket.onopen = () => {
      socket.send("one");
      socket.send("two");
      socket.send("three");
      socket.send(new Uint8Array([1, 2, 3])); // binary: counted, dropped without onBinary
    };
  });
  const r = recorder();
  const conn = new WsConnection({ name: "t-deliver", url: server.url, ...r.options });
  try {
    assert.equal(conn.state, "idle");
    assert.equal(conn.send("too early"), false);
    assert.equal(conn.reconnect("not started"), false);
    const beforeMs = Date.now();
    conn.start();
    assert.throws(() => conn.start(), /expected an idle connection to start, found "connecting"/);
    await waitFor("three messages", () => r.messages.length === 3);
    await waitFor("the binary frame", () => conn.stats().binaryIn === 1);
    assert.equal(conn.state, "open");
    assert.deepEqual(r.messages.map((m) => m.text), ["one", "two", "three"]);
    const connId = r.opens[0].connId;
    assert.equal(r.opens[0].reason, "initial");
    assert.equal(r.opens[0].rotation, false);
    for (const m of r.messages) {
      assert.equal(m.connId, connId);
      // performance.timeOrigin + performance.now() tracks the wall clock closely.
      assert.ok(m.recvTsMs >= beforeMs - 50 && m.recvTsMs <= Date.now() + 50, `${m.recvTsMs}`);
    }
    assert.equal(conn.send("hello"), true);
    conn.enqueue("sub-1");
    conn.enqueue("sub-2");
    await waitFor("server got 3 texts", () => server.received[0].length === 3);
    assert.deepEqual(server.received[0], ["hello", "sub-1", "sub-2"]);
    const stats = conn.stats();
    assert.equal(stats.connects, 1);
    assert.equal(stats.messagesIn, 3);
    assert.equal(stats.binaryIn, 1);
    assert.equal(stats.bytesIn, "onetwothree".length + 3);
    assert.equal(stats.sends, 3);
    assert.equal(stats.sendFailures, 1);
    assert.equal(stats.pacer.sent, 2);
    assert.equal(stats.currentConnId, connId);
    // The binary frame came last.
    assert.ok(stats.lastMessageAtMs >= r.messages[2].recvTsMs);
  } finally {
    await conn.close();
    await server.shutdown();
  }
  assert.equal(conn.state, "closed");
  assert.equal(conn.send("after close"), false);
  assert.equal(r.closes.length, 1);
  assert.equal(r.closes[0].willReconnect, false);
  assert.equal(r.closes[0].code, 1000);
});

Deno.test("ws connection reconnects after a server close and calls onOpen again", async () => {
  const server = serveWs((socket, index) => {
    socket.onopen = () => {
      socket.send(`hello-${index}`);
      // The first connection is cut by the server, as an exchange does.
      if (index === 0) setTimeout(() => socket.close(4000, "maintenance"), 20);
    };
  });
  const r = recorder();
  const reconnectFromOnClose: boolean[] = [];
  const conn = new WsConnection({
    name: "t-reconnect",
    url: server.url,
    backoff: { initialMs: 40, maxMs: 400, jitter: "none" },
    ...r.options,
    onClose: (info) => {
      r.closes.push(info);
      // The retry is already decided: asking again is a harmless no-op.
      reconnectFromOnClose.push(conn.reconnect("from_on_close"));
    },
    onOpen: (info) => {
      r.opens.push(info);
      // Resubscription goes through the pacer, as the adapter does.
      conn.enqueue(`subscribe-from-${info.connId}`);
    },
  });
  try {
    conn.start();
    await waitFor("second open", () => r.opens.length === 2);
    await waitFor("second hello", () => r.messages.length === 2);
    assert.deepEqual(r.messages.map((m) => m.text), ["hello-0", "hello-1"]);
    assert.equal(r.closes.length, 1);
    assert.equal(r.closes[0].code, 4000);
    assert.equal(r.closes[0].reason, "maintenance");
    assert.equal(r.closes[0].willReconnect, true);
    assert.equal(r.opens[1].reason, "remote_close");
    assert.equal(r.opens[1].rotation, false);
    const scheduled = eventsOf(r, "reconnect_scheduled");
    assert.equal(scheduled.length, 1);
    assert.equal(scheduled[0].delayMs, 40);
    // The gap between close and reopen honours the backoff delay.
    const gapMs = r.messages[1].recvTsMs - r.messages[0].recvTsMs;
    assert.ok(gapMs >= 40, `reopened after ${gapMs} ms`);
    assert.deepEqual(conn.stats().reconnects, { remote_close: 1 });
    assert.deepEqual(reconnectFromOnClose, [false]);
    await waitFor("resubscriptions", () => server.received[1]?.length === 1);
    assert.deepEqual(server.received[0], [`subscribe-from-${r.opens[0].connId}`]);
    assert.deepEqual(server.received[1], [`subscribe-from-${r.opens[1].connId}`]);
  } finally {
    await conn.close();
    await server.shutdown();
  }
});

Deno.test("ws connection retries with growing delays while the server is down", async () => {
  // Find a free port, then leave it closed: every attempt is refused.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const r = recorder();
  const conn = new WsConnection({
    name: "t-down",
    url: `ws://127.0.0.1:${port}/`,
    backoff: { initialMs: 20, maxMs: 80, jitter: "none", minMs: 20 },
    ...r.options,
  });
  let server: WsTestServer | null = null;
  try {
    conn.start();
    await waitFor("four scheduled retries", () => eventsOf(r, "reconnect_scheduled").length >= 4);
    assert.equal(conn.state, "connecting");
    assert.equal(r.opens.length, 0);
    const delays = eventsOf(r, "reconnect_scheduled").map((e) => e.delayMs);
    assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 80]);
    assert.ok(conn.stats().connectFailures >= 4);
    // The server comes back on the same port.
    server = serveWs((socket) => {
      socket.onopen = () => socket.send("back");
    }, port);
    await waitFor("open after the outage", () => r.opens.length === 1);
    await waitFor("first message", () => r.messages.length === 1);
    assert.equal(r.opens[0].failedAttempts >= 4, true);
    assert.equal(conn.state, "open");
    // Failed attempts are not reported as closes of the logical connection.
    assert.equal(r.closes.length, 0);
  } finally {
    await conn.close();
    await server?.shutdown();
  }
});

Deno.test("ws connection idle watchdog reconnects a silent socket", async () => {
  const server = serveWs(() => {}); // accepts and never says a word
  const r = recorder();
  const conn = new WsConnection({
    name: "t-idle",
    url: server.url,
    idleTimeoutMs: 80,
    ...r.options,
  });
  try {
    const t0 = performance.now();
    conn.start();
    await waitFor("reopen after idle", () => r.opens.length >= 2);
    const elapsedMs = performance.now() - t0;
    assert.ok(elapsedMs >= 80, `reconnected after ${elapsedMs} ms`);
    assert.equal(r.opens[1].reason, "idle");
    assert.equal(eventsOf(r, "idle").length >= 1, true);
    assert.ok(eventsOf(r, "idle")[0].silentMs >= 80);
    assert.ok((conn.stats().reconnects.idle ?? 0) >= 1);
  } finally {
    await conn.close();
    await server.shutdown();
  }
});

Deno.test("ws connection idle watchdog stays quiet while messages flow", async () => {
  const server = serveWs((socket) => {
    const timer = setInterval(() => socket.send("tick"), 10);
    socket.onclose = () => clearInterval(timer);
  });
  const r = recorder();
  const conn = new WsConnection({
    name: "t-busy",
    url: server.url,
    idleTimeoutMs: 60,
    ...r.options,
  });
  try {
    conn.start();
    await waitFor("ticks over 3 idle periods", () => r.messages.length >= 20);
    assert.equal(r.opens.length, 1);
    assert.equal(eventsOf(r, "idle").length, 0);
  } finally {
    await conn.close();
    await server.shutdown();
  }
});

/** Server that broadcasts a global sequence to every open socket every 2 ms. */
function tickerServer(): { server: WsTestServer; stop: () => void } {
  const open = new Set<WebSocket>();
  const perConn = new Map<WebSocket, number>();
  let seq = 0;
  const server = serveWs((socket) => {
    socket.onopen = () => {
      open.add(socket);
      perConn.set(socket, 0);
    };
    socket.onclose = () => open.delete(socket);
  });
  const timer = setInterval(() => {
    seq++;
    for (const s of open) {
      if (s.readyState !== WebSocket.OPEN) continue;
      const c = perConn.get(s)! + 1;
      perConn.set(s, c);
      s.send(`${seq}:${c}`);
    }
  }, 2);
  return { server, stop: () => clearInterval(timer) };
}

/** Checks per-connection counters are gap-free and the union of global seqs has no hole. */
function assertNoGap(messages: { text: string; connId: number }[]): void {
  const perConn = new Map<number, number>();
  const globals = new Set<number>();
  for (const m of messages) {
    const [g, c] = m.text.split(":").map(Number);
    const previous = perConn.get(m.connId) ?? 0;
    assert.equal(c, previous + 1, `conn ${m.connId}: expected message ${previous + 1}, found ${c}`);
    perConn.set(m.connId, c);
    globals.add(g);
  }
  const sorted = [...globals].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    assert.equal(sorted[i], sorted[i - 1] + 1, `global sequence gap after ${sorted[i - 1]}`);
  }
}

Deno.test("ws connection rotates make-before-break without losing messages", async (t) => {
  await t.step("on maxLifetimeMs", async () => {
    const { server, stop } = tickerServer();
    const r = recorder();
    const conn = new WsConnection({
      name: "t-rotate",
      url: server.url,
      maxLifetimeMs: 120,
      ...r.options,
    });
    try {
      conn.start();
      await waitFor("two rotations", () => r.opens.length >= 3);
      await waitFor(
        "old socket closed",
        () => eventsOf(r, "close").some((e) => e.connId === r.opens[1].connId),
      );
      const firstOld = r.opens[0].connId;
      const firstNew = r.opens[1].connId;
      assert.equal(r.opens[1].reason, "lifetime");
      assert.equal(r.opens[1].rotation, true);
      // The new socket opened before the old one closed.
      const openIdx = r.events.findIndex((e) => e.type === "open" && e.connId === firstNew);
      const closeIdx = r.events.findIndex((e) => e.type === "close" && e.connId === firstOld);
      assert.ok(openIdx >= 0 && closeIdx > openIdx, `open at ${openIdx}, old close at ${closeIdx}`);
      const oldClose = eventsOf(r, "close").find((e) => e.connId === firstOld)!;
      assert.equal(oldClose.socket, "rotated_out");
      assert.equal(oldClose.willReconnect, true);
      // Rotations are not closes of the logical connection.
      assert.equal(r.closes.length, 0);
      assert.ok(r.messages.some((m) => m.connId === firstOld));
      assert.ok(r.messages.some((m) => m.connId === firstNew));
      assertNoGap(r.messages);
      assert.ok((conn.stats().reconnects.lifetime ?? 0) >= 2);
    } finally {
      stop();
      await conn.close();
      await server.shutdown();
    }
  });

  await t.step(
    "on reconnect(reason), waiting for onOpen's promise before closing the old socket",
    async () => {
      const { server, stop } = tickerServer();
      const r = recorder();
      let readyAtMs = 0;
      const conn = new WsConnection({
        name: "t-shutdown",
        url: server.url,
        ...r.options,
        onOpen: (info) => {
          r.opens.push(info);
          if (!info.rotation) return;
          // e.g. the adapter waits for its SUBSCRIBE ack / snapshot before letting the old go.
          return sleep(40).then(() => {
            readyAtMs = performance.now();
          });
        },
      });
      try {
        conn.start();
        await waitFor("some messages", () => r.messages.length >= 10);
        assert.equal(conn.reconnect("server_shutdown"), true);
        assert.equal(conn.reconnect("again"), false, "a reconnect is already under way");
        await waitFor("rotated", () => r.opens.length === 2);
        const oldId = r.opens[0].connId;
        await waitFor("old closed", () => eventsOf(r, "close").some((e) => e.connId === oldId));
        const closedAtMs = performance.now();
        assert.ok(readyAtMs > 0 && readyAtMs <= closedAtMs);
        assert.equal(r.opens[1].reason, "server_shutdown");
        await waitFor(
          "messages on the new socket",
          () => r.messages.filter((m) => m.connId === r.opens[1].connId).length >= 10,
        );
        assertNoGap(r.messages);
        assert.deepEqual(conn.stats().reconnects, { server_shutdown: 1 });
        assert.deepEqual(
          eventsOf(r, "rotation").map((e) => e.phase),
          ["start", "switched"],
        );
      } finally {
        stop();
        await conn.close();
        await server.shutdown();
      }
    },
  );
});

// ---- raw TCP peers for the hazards the Deno server will not reproduce -------------------------

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

interface RawServer {
  url: string;
  conns: Deno.Conn[];
  /** Bytes received after the handshake, per connection. */
  afterHandshake: number[];
  shutdown(): Promise<void>;
}

/**
 * A TCP server that speaks just enough WebSocket: it answers the upgrade (unless `handshake` is
 * false), sends one text frame "hi", then reads and ignores everything, including close frames,
 * so the client's closing handshake never completes (DENO_NOTES "close_hang").
 */
function rawServer(handshake: boolean): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  const afterHandshake: number[] = [];
  const tasks: Promise<void>[] = [];
  const serve = async (conn: Deno.Conn, index: number) => {
    const buf = new Uint8Array(4096);
    try {
      const n = await conn.read(buf);
      if (n === null) return;
      if (handshake) {
        const request = new TextDecoder().decode(buf.subarray(0, n));
        const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? "";
        const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + WS_GUID));
        const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
        await conn.write(new TextEncoder().encode(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        ));
        await conn.write(new Uint8Array([0x81, 2, 0x68, 0x69])); // FIN text "hi"
      }
      for (;;) {
        const m = await conn.read(buf);
        if (m === null) return;
        afterHandshake[index] += m;
      }
    } catch {
      // conn closed by shutdown(): the read is interrupted.
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        afterHandshake.push(0);
        conns.push(conn);
        tasks.push(serve(conn, conns.length - 1));
      }
    } catch {
      // listener closed
    }
  })();
  return {
    url: `ws://127.0.0.1:${port}/`,
    conns,
    afterHandshake,
    async shutdown() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      await accepting;
      await Promise.all(tasks);
    },
  };
}

Deno.test("ws connection close() is bounded when the peer never answers the close frame", async () => {
  const raw = rawServer(true);
  const r = recorder();
  const conn = new WsConnection({
    name: "t-hang",
    url: raw.url,
    closeTimeoutMs: 100,
    ...r.options,
  });
  try {
    conn.start();
    await waitFor("hi", () => r.messages.length === 1);
    const t0 = performance.now();
    await conn.close();
    const tookMs = performance.now() - t0;
    assert.ok(tookMs >= 95 && tookMs < 1_000, `close took ${tookMs} ms`);
    // The client did send its close frame; the peer just never answered.
    await waitFor("close frame at the peer", () => raw.afterHandshake[0] > 0);
    assert.equal(conn.state, "closed");
    assert.equal(conn.stats().closeTimeouts, 1);
    assert.equal(eventsOf(r, "close_timeout").length, 1);
    assert.equal(r.closes.length, 1);
    assert.deepEqual(
      [r.closes[0].code, r.closes[0].wasClean, r.closes[0].willReconnect],
      [1006, false, false],
    );
  } finally {
    await conn.close();
    // Only the peer can end the TCP connection now (no terminate() in Deno).
    await raw.shutdown();
  }
  await waitFor("socket released by the runtime", () => eventsOf(r, "released").length === 1);
});

Deno.test("ws connection gives up a handshake after connectTimeoutMs and retries", async () => {
  const raw = rawServer(false); // accepts TCP, never answers the HTTP upgrade
  const r = recorder();
  const conn = new WsConnection({
    name: "t-connect-timeout",
    url: raw.url,
    connectTimeoutMs: 60,
    backoff: { initialMs: 30, maxMs: 60, jitter: "none" },
    ...r.options,
  });
  try {
    conn.start();
    await waitFor(
      "two timed-out attempts",
      () => eventsOf(r, "error").filter((e) => e.stage === "connect_timeout").length >= 2,
    );
    assert.equal(conn.state, "connecting");
    assert.equal(r.opens.length, 0);
    assert.ok(conn.stats().connectFailures >= 2);
    assert.ok(eventsOf(r, "reconnect_scheduled").length >= 2);
  } finally {
    await conn.close();
    await raw.shutdown();
  }
});

Deno.test("ws connection survives throwing callbacks and a bad url", async (t) => {
  await t.step("onMessage throws", async () => {
    const server = serveWs((socket) => {
      socket.onopen = () => {
        for (let i = 0; i < 5; i++) socket.send(`m${i}`);
      };
    });
    const errors: WsConnectionEvent[] = [];
    let seen = 0;
    const conn = new WsConnection({
      name: "t-throw",
      url: server.url,
      onMessage: () => {
        seen++;
        throw new Error("adapter bug");
      },
      onEvent: (e) => {
        if (e.type === "error") errors.push(e);
      },
    });
    try {
      conn.start();
      await waitFor("five messages", () => seen === 5);
      assert.equal(conn.state, "open");
      assert.equal(conn.stats().callbackErrors, 5);
      // Reported at counts 1, 2 and 4 only: a throwing hot path must not flood the log.
      assert.equal(errors.length, 3);
    } finally {
      await conn.close();
      await server.shutdown();
    }
  });

  await t.step("url function throws, then recovers", async () => {
    const server = serveWs(() => {});
    let calls = 0;
    const r = recorder();
    const conn = new WsConnection({
      name: "t-url",
      url: () => {
        calls++;
        if (calls === 1) throw new Error("no subscriptions yet");
        return server.url;
      },
      backoff: { initialMs: 20, maxMs: 40 },
      ...r.options,
    });
    try {
      conn.start();
      await waitFor("open", () => r.opens.length === 1);
      assert.equal(eventsOf(r, "error")[0].stage, "url");
      assert.equal(calls, 2);
    } finally {
      await conn.close();
      await server.shutdown();
    }
  });
});

Deno.test("ws connection backoff grows against a flapping server and resets after a healthy stint", async (t) => {
  await t.step("flapping: open then cut at once", async () => {
    const server = serveWs((socket) => {
      socket.onopen = () => socket.close(4001, "flap");
    });
    const r = recorder();
    const conn = new WsConnection({
      name: "t-flap",
      url: server.url,
      backoff: { initialMs: 10, maxMs: 80, jitter: "none", minMs: 10 },
      backoffResetAfterMs: 1_000,
      ...r.options,
    });
    try {
      conn.start();
      await waitFor("five reconnects", () => eventsOf(r, "reconnect_scheduled").length >= 5);
      // Every open succeeded, yet the delays grow: an accepted-then-dropped socket is no proof
      // of health, so no tight loop.
      const delays = eventsOf(r, "reconnect_scheduled").map((e) => e.delayMs).slice(0, 5);
      assert.deepEqual(delays, [10, 20, 40, 80, 80]);
      assert.ok(r.opens.length >= 4);
    } finally {
      await conn.close();
      await server.shutdown();
    }
  });

  await t.step("healthy: a socket open for backoffResetAfterMs resets the delays", async () => {
    const server = serveWs((socket) => {
      socket.onopen = () => setTimeout(() => socket.close(4002, "later"), 60);
    });
    const r = recorder();
    const conn = new WsConnection({
      name: "t-healthy",
      url: server.url,
      backoff: { initialMs: 10, maxMs: 80, jitter: "none", minMs: 10 },
      backoffResetAfterMs: 30,
      ...r.options,
    });
    try {
      conn.start();
      await waitFor("three reconnects", () => eventsOf(r, "reconnect_scheduled").length >= 3);
      const delays = eventsOf(r, "reconnect_scheduled").map((e) => e.delayMs).slice(0, 3);
      assert.deepEqual(delays, [10, 10, 10]);
      assert.ok(r.closes.length >= 3 && r.closes.every((c) => c.attempt === 0));
    } finally {
      await conn.close();
      await server.shutdown();
    }
  });
});

Deno.test("ws connection keeps the old socket when a rotation attempt fails, then retries", async () => {
  // Second upgrade request (the first rotation attempt) is refused with 503.
  const open = new Set<WebSocket>();
  let seq = 0;
  const server = serveWs(
    (socket) => {
      socket.onopen = () => open.add(socket);
      socket.onclose = () => open.delete(socket);
    },
    0,
    (n) => n === 1,
  );
  const timer = setInterval(() => {
    seq++;
    for (const s of open) if (s.readyState === WebSocket.OPEN) s.send(String(seq));
  }, 2);
  const r = recorder();
  const conn = new WsConnection({
    name: "t-rotate-fail",
    url: server.url,
    backoff: { initialMs: 30, maxMs: 60, jitter: "none" },
    ...r.options,
  });
  try {
    conn.start();
    await waitFor("first open", () => r.opens.length === 1);
    assert.equal(conn.reconnect("server_shutdown"), true);
    await waitFor("failed attempt", () => eventsOf(r, "reconnect_scheduled").length === 1);
    // The old socket is still current and still delivering.
    assert.equal(conn.state, "open");
    assert.equal(conn.stats().currentConnId, r.opens[0].connId);
    const before = r.messages.length;
    await waitFor("more messages on the old socket", () => r.messages.length > before + 5);
    await waitFor("rotation after the retry", () => r.opens.length === 2);
    assert.equal(r.opens[1].reason, "server_shutdown");
    assert.equal(r.opens[1].rotation, true);
    assert.equal(r.opens[1].failedAttempts, 1);
    assert.equal(r.closes.length, 0);
    const seqs = [...new Set(r.messages.map((m) => Number(m.text)))].sort((a, b) => a - b);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1);
  } finally {
    clearInterval(timer);
    await conn.close();
    await server.shutdown();
  }
});
