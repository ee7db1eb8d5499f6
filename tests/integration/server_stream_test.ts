/**
 * The consumer WebSocket endpoint and the HTTP control API end to end: a real server on
 * 127.0.0.1 (port 0), a real routing table, consumer registry, dispatcher and pool, and Deno's
 * built-in WebSocket client.
 */

import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../../src/dispatcher/mod.ts";
import { BoundedPool } from "../../src/pool/mod.ts";
import {
  CanonicalEvent,
  type CanonicalEventData,
  controlFromWire,
  eventFromWire,
  eventToWire,
} from "../../src/schema/mod.ts";
import type { BookStateView } from "../../src/server/book_state_view.ts";
import {
  type GatewayStatus,
  type RunningHttpServer,
  startHttpServer,
} from "../../src/server/http_server.ts";
import { StreamServer } from "../../src/server/stream_server.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";
import { sampleBookUpdate, sampleTrade } from "../support/schema_samples.ts";

const WAIT_MS = 3000;

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

type Message = Record<string, unknown>;

/** A consumer written as a client author would: a plain WebSocket, objects or arrays per frame. */
class Client {
  readonly frames: unknown[] = [];
  readonly messages: Message[] = [];
  closeEvent: CloseEvent | null = null;
  #closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e: MessageEvent) => {
      const frame = JSON.parse(e.data as string);
      this.frames.push(frame);
      if (Array.isArray(frame)) {
        assert.ok(frame.length >= 2, "an array frame carries at least two messages");
        this.messages.push(...frame);
      } else {
        this.messages.push(frame);
      }
    };
    this.#closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        this.closeEvent = e;
        resolve();
      };
    });
  }

  static async connect(port: number, consumerId?: string): Promise<Client> {
    const q = consumerId === undefined ? "" : `?consumer=${encodeURIComponent(consumerId)}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream${q}`);
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
    });
    return client;
  }

  send(cmd: unknown): void {
    this.ws.send(typeof cmd === "string" ? cmd : JSON.stringify(cmd));
  }

  events(): Message[] {
    return this.messages.filter((m) => m.type === "event");
  }

  acks(): Message[] {
    return this.messages.filter((m) => m.type === "ack");
  }

  async ack(reqId: string): Promise<Message> {
    await waitUntil(`ack ${reqId}`, () => this.acks().some((a) => a.req_id === reqId));
    return this.acks().find((a) => a.req_id === reqId)!;
  }

  async subscribe(reqId: string, provider: string, symbol: string, kind: string) {
    this.send({ v: 1, type: "subscribe", req_id: reqId, provider, symbol, kind });
    return await this.ack(reqId);
  }

  /** Waits for the close event (bounded: a client close() can otherwise hang). */
  async closed(): Promise<CloseEvent> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("close timed out")), WAIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    return this.closeEvent!;
  }

  async close(): Promise<void> {
    if (this.closeEvent !== null) return;
    this.ws.close(1000, "done");
    await this.closed();
  }
}

const BOOKS: BookStateView[] = [{
  provider: "binance",
  symbol: "BTC-USDT",
  state: "LIVE",
  bookId: 105,
  bestBid: "87250.00",
  bestAsk: "87250.01",
  resyncs: { gap: 0 },
  lastUpdateMs: 1767225600201.5,
}];

interface Stack {
  pool: BoundedPool<CanonicalEvent>;
  routes: RoutingTable<Consumer>;
  consumers: ConsumerRegistry;
  dispatcher: Dispatcher<Consumer>;
  stream: StreamServer;
  metrics: MetricsRegistry;
  http: RunningHttpServer;
  base: string;
  clients: Client[];
  connect(consumerId?: string): Promise<Client>;
  dispatch(ev: CanonicalEventData): void;
  stop(): Promise<void>;
}

async function startStack(): Promise<Stack> {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 16,
    create: () => new CanonicalEvent(),
    debug: true,
  });
  const routes = new RoutingTable<Consumer>();
  const consumers = new ConsumerRegistry({ routes });
  const dispatcher = new Dispatcher({ routes, pool });
  const metrics = new MetricsRegistry();
  const stream = new StreamServer({ consumers, metrics });
  const status: GatewayStatus = {
    ready: () => true,
    notReadyReason: () => "",
    pools: () => [pool.stats()],
    codec: () => ({ summary: "v8-json" }),
    metrics,
    consumers,
    routing: () => routes.snapshot(),
    books: () => BOOKS,
  };
  const http = await startHttpServer({ host: "127.0.0.1", port: 0, status, stream, metrics });
  const clients: Client[] = [];
  const stack: Stack = {
    pool,
    routes,
    consumers,
    dispatcher,
    stream,
    metrics,
    http,
    base: `http://127.0.0.1:${http.port}`,
    clients,
    async connect(consumerId) {
      const c = await Client.connect(http.port, consumerId);
      clients.push(c);
      return c;
    },
    dispatch(data) {
      const ev = pool.tryAcquire();
      assert.ok(ev !== null, "expected a free pooled event");
      dispatcher.dispatch(ev.copyFrom(data));
    },
    async stop() {
      await http.shutdown();
      await Promise.all(clients.map((c) => c.closed()));
      assert.equal(pool.inFlightCount(), 0, "every pooled event was released");
    },
  };
  return stack;
}

function trade(seq: number, symbol = "BTC-USDT"): CanonicalEventData {
  return sampleTrade({ seq, tradeId: String(seq), symbol });
}

function seqsOf(messages: Message[]): number[] {
  return messages.map((m) => m.seq as number);
}

Deno.test("ws: subscribe, receive events in order in the wire format, unsubscribe", async () => {
  const s = await startStack();
  try {
    const c = await s.connect("strat-a");
    const ack = await c.subscribe("r1", "binance", "BTC-USDT", "trade");
    assert.deepEqual(controlFromWire(ack), {
      type: "ack",
      reqId: "r1",
      ok: true,
      routingVersion: s.routes.version,
    });
    assert.deepEqual(s.routes.snapshot().consumers, [{
      id: "strat-a",
      subscriptions: [{ provider: "binance", symbol: "BTC-USDT", kind: "trade" }],
    }]);

    for (let seq = 1; seq <= 5; seq++) {
      s.dispatch(trade(seq));
      await sleep(1);
    }
    s.dispatch(trade(99, "ETH-USDT")); // not subscribed
    await waitUntil("5 events", () => c.events().length === 5);
    assert.deepEqual(seqsOf(c.events()), [1, 2, 3, 4, 5]);
    assert.deepEqual(c.events()[0], eventToWire(trade(1)));
    assert.deepEqual(eventFromWire(c.events()[4]), trade(5));

    c.send({
      v: 1,
      type: "unsubscribe",
      req_id: "r2",
      provider: "binance",
      symbol: "BTC-USDT",
      kind: "trade",
    });
    const unack = await c.ack("r2");
    assert.equal(unack.ok, true);
    assert.equal(unack.routing_version, s.routes.version);
    // After the ack nothing more of that stream; a marker stream proves delivery still works.
    await c.subscribe("r3", "binance", "BTC-USDT", "book_update");
    s.dispatch(trade(6));
    s.dispatch(sampleBookUpdate());
    await waitUntil("the marker", () => c.events().some((e) => e.kind === "book_update"));
    assert.deepEqual(c.events().map((e) => e.kind), [...Array(5).fill("trade"), "book_update"]);
  } finally {
    await s.stop();
  }
});

Deno.test("ws: a burst arrives as array frames, complete and in order", async () => {
  const s = await startStack();
  try {
    const c = await s.connect("burst");
    await c.subscribe("r1", "binance", "BTC-USDT", "trade");
    const n = 1000;
    for (let seq = 1; seq <= n; seq++) s.dispatch(trade(seq));
    await waitUntil(`${n} events`, () => c.events().length === n);
    assert.deepEqual(seqsOf(c.events()), Array.from({ length: n }, (_, i) => i + 1));
    const arrays = c.frames.filter(Array.isArray) as unknown[][];
    assert.ok(arrays.length >= 4, `expected the burst batched, found ${arrays.length} arrays`);
    for (const a of arrays) assert.ok(a.length <= 256);
    const st = s.stream.stats();
    assert.equal(st.messagesSent, n);
    assert.equal(st.batches, arrays.length);
    assert.ok(
      st.framesSent < n / 2,
      `expected far fewer frames than events, found ${st.framesSent}`,
    );
    const consumer = s.consumers.get("burst")!.stats();
    assert.equal(consumer.dropped, 0);
  } finally {
    await s.stop();
  }
});

Deno.test("ws: malformed commands get error acks and the connection stays open", async () => {
  const s = await startStack();
  try {
    const c = await s.connect("sloppy");
    c.send("{this is not json");
    c.send({
      v: 1,
      type: "subscribe",
      req_id: "bad1",
      provider: "binance",
      symbol: "BTCUSDT",
      kind: "trade",
    });
    c.send({
      v: 1,
      type: "merged_subscribe",
      req_id: "m1",
      symbol: "BTC-USDT",
      kind: "trade",
      providers: ["binance", "okx"],
    });
    c.ws.send(new Uint8Array([1, 2, 3]));
    await waitUntil("four acks", () => c.acks().length === 4);
    const codes = c.acks().map((a) => [a.req_id, (a.error as { code: string }).code]);
    assert.deepEqual(codes, [
      ["", "invalid_json"],
      ["bad1", "invalid_field"],
      ["m1", "not_supported"],
      ["", "binary_frame"],
    ]);
    for (const a of c.acks()) controlFromWire(a); // valid acks
    const ok = await c.subscribe("r1", "binance", "BTC-USDT", "trade");
    assert.equal(ok.ok, true, "still open and serving");
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    const st = s.stream.stats();
    assert.equal(st.badCommands, 3);
    assert.equal(st.unsupportedCommands, 1);
    assert.equal(st.commands, 5);
  } finally {
    await s.stop();
  }
});

Deno.test("ws: two clients with overlapping subscriptions do not interfere", async () => {
  const s = await startStack();
  try {
    const a = await s.connect("alpha");
    const b = await s.connect("beta");
    await a.subscribe("a1", "binance", "BTC-USDT", "trade");
    await a.subscribe("a2", "binance", "ETH-USDT", "trade");
    await b.subscribe("b1", "binance", "BTC-USDT", "trade");
    s.dispatch(trade(1));
    s.dispatch(trade(2, "ETH-USDT"));
    s.dispatch(trade(3));
    await waitUntil("alpha's 3", () => a.events().length === 3);
    await waitUntil("beta's 2", () => b.events().length === 2);
    assert.deepEqual(seqsOf(a.events()), [1, 2, 3]);
    assert.deepEqual(seqsOf(b.events()), [1, 3]);
    // Beta leaving does not affect alpha's identical subscription.
    await b.close();
    await waitUntil("beta gone", () => s.stream.session("beta") === undefined);
    s.dispatch(trade(4));
    await waitUntil("alpha's 4th", () => a.events().length === 4);
    assert.equal(s.consumers.get("beta"), undefined);
  } finally {
    await s.stop();
  }
});

Deno.test("ws: closing removes the consumer; its id is refused with 409 while connected", async () => {
  const s = await startStack();
  try {
    const c = await s.connect("solo");
    await c.subscribe("r1", "okx", "ETH-USDT", "ticker");

    // Same id again: refused before the upgrade with a 409 and a clear message.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.http.port });
    const head = await rawUpgrade(conn, "/v1/stream?consumer=solo");
    assert.match(head, /^HTTP\/1\.1 409/);
    assert.match(head, /already connected/);

    const before = await (await fetch(`${s.base}/v1/routing`)).json();
    assert.deepEqual(before.consumers.map((x: { id: string }) => x.id), ["solo"]);
    await c.close();
    await waitUntil("consumer removed", () => s.consumers.get("solo") === undefined);
    const after = await (await fetch(`${s.base}/v1/routing`)).json();
    assert.deepEqual(after.consumers, []);
    assert.ok(after.version > before.version);
    assert.equal(s.stream.stats().disconnects.remote_closed, 1);
  } finally {
    await s.stop();
  }
});

Deno.test("ws: a connection without an id gets a generated one in the upgrade response", async () => {
  const s = await startStack();
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.http.port });
    const head = await rawUpgrade(conn, "/v1/stream");
    assert.match(head, /^HTTP\/1\.1 101/);
    const id = /x-switchyard-consumer-id: (ws-[0-9a-f]{16})/i.exec(head)?.[1];
    assert.ok(id !== undefined, `expected the consumer id header, found ${head}`);
    await waitUntil("registered", () => s.consumers.get(id) !== undefined);
    const list = await (await fetch(`${s.base}/v1/consumers`)).json();
    assert.equal(list.consumers[0].id, id);
    assert.equal(list.consumers[0].transport, "websocket");
    assert.equal(list.stream.connectionsActive, 1);
    conn.close();
    await waitUntil("consumer removed", () => s.consumers.get(id) === undefined);
  } finally {
    await s.stop();
  }
});

Deno.test("http: subscribe a WebSocket consumer over HTTP; errors 404/400/413", async () => {
  const s = await startStack();
  try {
    const c = await s.connect("remote");
    const url = `${s.base}/v1/consumers/remote/subscriptions`;
    const body = JSON.stringify({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
    const res = await fetch(url, { method: "POST", body });
    assert.equal(res.status, 200);
    const ack = await res.json();
    assert.equal(ack.ok, true);
    assert.equal(ack.routing_version, s.routes.version);
    s.dispatch(trade(7));
    await waitUntil("the event", () => c.events().length === 1);
    assert.equal(c.events()[0].seq, 7);

    const info = await (await fetch(`${s.base}/v1/consumers/remote`)).json();
    assert.equal(info.transport, "websocket");
    assert.equal(info.connection.messagesSent, 1);
    assert.deepEqual(info.subscriptions, [JSON.parse(body)]);

    const missing = await fetch(`${s.base}/v1/consumers/ghost/subscriptions`, {
      method: "POST",
      body,
    });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "unknown_consumer");
    const bad = await fetch(url, { method: "POST", body: "{oops" });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_json");
    const big = await fetch(url, { method: "POST", body: "x".repeat(70_000) });
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.code, "body_too_large");

    const del = await fetch(url, { method: "DELETE", body });
    assert.equal(del.status, 200);
    await del.body?.cancel();
    assert.deepEqual(s.consumers.get("remote")!.subscriptions(), []);

    const books = await (await fetch(`${s.base}/v1/books/binance/BTC-USDT`)).json();
    assert.equal(books.state, "LIVE");
    const metrics = parsePrometheusText(await (await fetch(`${s.base}/metrics`)).text());
    assert.equal(metrics.get("switchyard_ws_connections_active"), 1);
    assert.equal(metrics.get("switchyard_ws_messages_sent_total"), 1);
    assert.equal(metrics.get('switchyard_http_control_commands_total{outcome="applied"}'), 2);
    const nf = await fetch(`${s.base}/nowhere`);
    assert.equal(nf.status, 404);
    await nf.body?.cancel();
  } finally {
    await s.stop();
  }
});

Deno.test("shutdown closes every client with 1001 'server shutting down'", async () => {
  const s = await startStack();
  const a = await s.connect("one");
  const b = await s.connect("two");
  await a.subscribe("r1", "binance", "BTC-USDT", "trade");
  await s.stop();
  for (const c of [a, b]) {
    const e = await c.closed();
    assert.equal(e.code, 1001);
    assert.equal(e.reason, "server shutting down");
  }
  assert.equal(s.consumers.size, 0);
  assert.deepEqual(s.routes.snapshot().consumers, []);
  assert.equal(s.stream.stats().disconnects.shutdown, 2);
});

/** Sends a WebSocket handshake by hand and returns the response head (and any body text). */
async function rawUpgrade(conn: Deno.TcpConn, path: string): Promise<string> {
  const req = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Sec-WebSocket-Version: 13\r\n\r\n";
  await conn.write(new TextEncoder().encode(req));
  const buf = new Uint8Array(8192);
  let text = "";
  // Read until the head is complete (and, for an error, its short JSON body).
  while (!/\r\n\r\n/.test(text) || (/^HTTP\/1\.1 [45]/.test(text) && !text.includes("}"))) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  if (!/^HTTP\/1\.1 101/.test(text)) conn.close();
  return text;
}
