import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import {
  CONSUMER_ID_HEADER,
  type DisconnectInfo,
  StreamServer,
} from "../../src/server/stream_server.ts";
import type { SessionSocket } from "../../src/server/stream_session.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: string[] = [];
  readonly closes: { code?: number; reason?: string }[] = [];
  send(data: string): void {
    this.frames.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closes.push({ code, reason });
    this.readyState = 2;
  }
}

function setup(opts?: { connectionsMax?: number }) {
  const routes = new RoutingTable<Consumer>();
  const consumers = new ConsumerRegistry({ routes });
  const metrics = new MetricsRegistry();
  const disconnects: DisconnectInfo[] = [];
  const server = new StreamServer({
    consumers,
    metrics,
    connectionsMax: opts?.connectionsMax,
    limits: { pollIntervalMs: 1 },
    onDisconnect: (info) => disconnects.push(info),
  });
  return { routes, consumers, metrics, server, disconnects };
}

const SUB = JSON.stringify({
  v: 1,
  type: "subscribe",
  req_id: "s1",
  provider: "okx",
  symbol: "ETH-USDT",
  kind: "book_update",
});

Deno.test("stream server: admission by consumer id", async (t) => {
  const { consumers, server } = setup({ connectionsMax: 3 });

  await t.step("a requested id is used, a missing one generated", () => {
    const a = server.connect("strat-a", () => new FakeSocket());
    assert.ok(a.ok);
    assert.equal(a.session.id, "strat-a");
    assert.equal(consumers.get("strat-a"), a.session.consumer);
    const g = server.connect(null, () => new FakeSocket());
    assert.ok(g.ok);
    assert.match(g.session.id, /^ws-[0-9a-f]{16}$/);
  });
  await t.step("an id already connected: 409, nothing changes", () => {
    let made = 0;
    const dup = server.connect("strat-a", () => {
      made++;
      return new FakeSocket();
    });
    assert.ok(!dup.ok);
    assert.equal(dup.status, 409);
    assert.equal(dup.reason, "conflict");
    assert.match(dup.message, /found "strat-a" already connected/);
    assert.equal(made, 0, "no socket is made for a refused id");
    assert.equal(server.session("strat-a")?.state, "connecting");
  });
  await t.step("an id used by an in-process consumer: 409", () => {
    consumers.create("local");
    const r = server.connect("local", () => new FakeSocket());
    assert.ok(!r.ok);
    assert.equal(r.status, 409);
    assert.match(r.message, /in use by an in-process consumer/);
  });
  await t.step("a malformed id: 400", () => {
    const r = server.connect("bad id!", () => new FakeSocket());
    assert.ok(!r.ok);
    assert.equal(r.status, 400);
    assert.match(r.message, /found "bad id!"/);
  });
  await t.step("a failing handshake closes the new consumer", () => {
    const r = server.connect("strat-x", () => {
      throw new TypeError("invalid upgrade");
    });
    assert.ok(!r.ok);
    assert.equal(r.status, 400);
    assert.equal(consumers.get("strat-x"), undefined);
  });
  await t.step("the connection bound: 503", () => {
    assert.ok(server.connect("strat-c", () => new FakeSocket()).ok);
    const r = server.connect("strat-d", () => new FakeSocket());
    assert.ok(!r.ok);
    assert.equal(r.status, 503);
    assert.equal(r.reason, "connections_limit");
  });
  await t.step("rejections are counted by reason", () => {
    const s = server.stats();
    assert.equal(s.connectionsAccepted, 3);
    assert.equal(s.connectionsActive, 3);
    assert.deepEqual(s.connectionsRejected, {
      not_websocket: 1,
      bad_consumer_id: 1,
      bad_exec_seq: 0,
      conflict: 2,
      connections_limit: 1,
      shutting_down: 0,
      registry_refused: 0,
      unauthorized: 0,
    });
  });
  await server.close({ timeoutMs: 10 });
});

Deno.test("stream server: upgrade() refuses before touching the socket", async () => {
  const { server, consumers } = setup();
  server.connect("taken", () => new FakeSocket());
  const plain = server.upgrade(new Request("http://127.0.0.1/v1/stream"));
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.get("upgrade"), "websocket");
  assert.match((await plain.json()).error, /expected a WebSocket upgrade request/);
  const headers = { upgrade: "websocket", connection: "Upgrade" };
  const conflict = server.upgrade(
    new Request("http://127.0.0.1/v1/stream?consumer=taken", { headers }),
  );
  assert.equal(conflict.status, 409);
  assert.match((await conflict.json()).error, /"taken" already connected/);
  const bad = server.upgrade(new Request("http://127.0.0.1/v1/stream?consumer=", { headers }));
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  // Not a request Deno.serve handed over: the upgrade itself fails, and the consumer goes.
  const fake = server.upgrade(new Request("http://127.0.0.1/v1/stream?consumer=new", { headers }));
  assert.equal(fake.status, 400);
  await fake.body?.cancel();
  assert.equal(consumers.get("new"), undefined);
  assert.equal(CONSUMER_ID_HEADER, "x-switchyard-consumer-id");
  await server.close({ timeoutMs: 10 });
});

Deno.test("stream server: disconnects free the id, are counted and reported", async () => {
  const { server, routes, disconnects, metrics } = setup();
  const a = server.connect("strat-a", () => new FakeSocket());
  assert.ok(a.ok);
  a.session.open();
  a.session.handleText(SUB);
  a.session.handleText("nope");
  assert.equal(routes.snapshot().consumers[0].subscriptions.length, 1);
  a.session.handleSocketClosed();
  assert.equal(server.session("strat-a"), undefined);
  assert.equal(routes.snapshot().consumers.length, 0);
  assert.equal(disconnects.length, 1);
  assert.equal(disconnects[0].reason, "remote_closed");
  assert.equal(disconnects[0].stats.commands, 2);
  // The id can connect again at once.
  const again = server.connect("strat-a", () => new FakeSocket());
  assert.ok(again.ok);
  const s = server.stats();
  assert.equal(s.commands, 2);
  assert.equal(s.badCommands, 1);
  assert.equal(s.acksSent, 2);
  assert.equal(s.disconnects.remote_closed, 1);
  const samples = parsePrometheusText(metrics.render());
  assert.equal(samples.get("switchyard_ws_connections_active"), 1);
  assert.equal(samples.get("switchyard_ws_connections_total"), 2);
  assert.equal(samples.get("switchyard_ws_commands_total"), 2);
  assert.equal(samples.get("switchyard_ws_bad_commands_total"), 1);
  assert.equal(samples.get('switchyard_ws_disconnects_total{reason="remote_closed"}'), 1);
  assert.equal(samples.get('switchyard_ws_connections_rejected_total{reason="conflict"}'), 0);
  await server.close({ timeoutMs: 10 });
});

Deno.test("stream server: shutdown closes every connection with 1001, bounded", async () => {
  const { server, consumers, disconnects } = setup();
  const sockets: FakeSocket[] = [];
  for (const id of ["a", "b"]) {
    const r = server.connect(id, () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    });
    assert.ok(r.ok);
    r.session.open();
  }
  // Socket "a" completes its close; "b" never reports one: shutdown gives up after the bound.
  const a = server.session("a")!;
  const started = performance.now();
  const closing = server.close({ timeoutMs: 50 });
  assert.equal(server.closing, true);
  a.handleSocketClosed();
  await closing;
  assert.ok(performance.now() - started >= 40, "waited for the silent socket, bounded");
  for (const s of sockets) {
    assert.deepEqual(s.closes, [{ code: 1001, reason: "server shutting down" }]);
  }
  assert.equal(consumers.size, 0);
  assert.deepEqual(disconnects.map((d) => d.reason), ["shutdown", "shutdown"]);
  assert.equal(server.stats().disconnects.shutdown, 2);
  const late = server.connect("c", () => new FakeSocket());
  assert.ok(!late.ok);
  assert.equal(late.status, 503);
  assert.equal(late.reason, "shutting_down");
  assert.equal(server.close(), closing, "idempotent");
});
