import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../../src/dispatcher/mod.ts";
import { BoundedPool } from "../../src/pool/mod.ts";
import { CanonicalEvent, eventToWire } from "../../src/schema/mod.ts";
import { resolveStreamLimits, type StreamLimits } from "../../src/server/stream_limits.ts";
import {
  CLOSE_GOING_AWAY,
  CLOSE_SLOW_CONSUMER,
  type SessionSocket,
  StreamSession,
} from "../../src/server/stream_session.ts";
import { newTrafficCounters } from "../../src/server/stream_stats.ts";
import { sampleTrade } from "../support/schema_samples.ts";

/** A socket that records frames; the test sets `bufferedAmount` and `readyState`. */
class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: string[] = [];
  closes: { code?: number; reason?: string }[] = [];
  send(data: string): void {
    if (this.readyState !== 1) throw new Error("readyState not OPEN");
    this.frames.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closes.push({ code, reason });
    if (this.readyState <= 1) this.readyState = 2;
  }
  /** Every frame parsed, arrays flattened. */
  messages(): Record<string, unknown>[] {
    return this.frames.flatMap((f) => {
      const v = JSON.parse(f);
      return Array.isArray(v) ? v : [v];
    });
  }
  events(): Record<string, unknown>[] {
    return this.messages().filter((m) => m.type === "event");
  }
  acks(): Record<string, unknown>[] {
    return this.messages().filter((m) => m.type === "ack");
  }
}

/** A manual clock. */
class Clock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
}

const SUB = JSON.stringify({
  v: 1,
  type: "subscribe",
  req_id: "s1",
  provider: "binance",
  symbol: "BTC-USDT",
  kind: "trade",
});

interface Rig {
  routes: RoutingTable<Consumer>;
  registry: ConsumerRegistry;
  pool: BoundedPool<CanonicalEvent>;
  dispatcher: Dispatcher<Consumer>;
  socket: FakeSocket;
  session: StreamSession;
  clock: Clock;
  closed: StreamSession[];
  dispatchTrades(from: number, count: number): void;
}

function rig(opts?: {
  limits?: Partial<StreamLimits>;
  queueEventsMax?: number;
  readyState?: number;
}): Rig {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 8,
    create: () => new CanonicalEvent(),
    debug: true,
  });
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({ routes, queueEventsMax: opts?.queueEventsMax });
  const dispatcher = new Dispatcher({ routes, pool });
  const socket = new FakeSocket();
  socket.readyState = opts?.readyState ?? 1;
  const clock = new Clock();
  const closed: StreamSession[] = [];
  const session = new StreamSession({
    consumer: registry.create("remote-1"),
    socket,
    limits: resolveStreamLimits({ pollIntervalMs: 1, ...opts?.limits }),
    totals: newTrafficCounters(),
    onClosed: (s) => closed.push(s),
    now: clock.now,
  });
  return {
    routes,
    registry,
    pool,
    dispatcher,
    socket,
    session,
    clock,
    closed,
    dispatchTrades(from, count) {
      for (let i = 0; i < count; i++) {
        const ev = pool.tryAcquire();
        assert.ok(ev !== null);
        ev.copyFrom(sampleTrade({ seq: from + i, tradeId: String(from + i) }));
        dispatcher.dispatch(ev);
      }
    },
  };
}

/** Lets microtasks and due timers run. */
function settle(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await settle(1);
  }
}

function seqs(events: Record<string, unknown>[]): number[] {
  return events.map((e) => e.seq as number);
}

Deno.test("session: a quiet socket gets one event per frame, in the canonical wire format", async () => {
  const r = rig();
  r.session.open();
  const out = r.session.handleText(SUB);
  assert.equal(out?.status, "applied");
  assert.deepEqual(r.socket.acks(), [
    { v: 1, type: "ack", req_id: "s1", ok: true, routing_version: r.routes.version },
  ]);
  r.dispatchTrades(1, 1);
  await settle();
  r.dispatchTrades(2, 1);
  await settle();
  assert.equal(r.socket.frames.length, 3, "ack + two single-event frames");
  for (const f of r.socket.frames.slice(1)) assert.equal(f[0], "{", "a single object, no array");
  assert.deepEqual(r.socket.events()[0], eventToWire(sampleTrade({ seq: 1, tradeId: "1" })));
  const s = r.session.stats();
  assert.equal(s.messagesSent, 2);
  assert.equal(s.batches, 0);
  assert.equal(s.framesSent, 3);
  assert.equal(s.acksSent, 1);
  assert.equal(r.pool.inFlightCount(), 0);
});

Deno.test("session: a burst is sent as array frames of at most batchMessagesMax, in order", async () => {
  const r = rig({ limits: { batchMessagesMax: 100 } });
  r.session.open();
  r.session.handleText(SUB);
  r.dispatchTrades(1, 250);
  await settle();
  const frames = r.socket.frames.slice(1).map((f) => JSON.parse(f));
  assert.deepEqual(frames.map((f) => Array.isArray(f) ? f.length : 1), [100, 100, 50]);
  assert.deepEqual(seqs(r.socket.events()), Array.from({ length: 250 }, (_, i) => i + 1));
  const s = r.session.stats();
  assert.equal(s.batches, 3);
  assert.equal(s.messagesSent, 250);
  assert.equal(s.consumer.dropped, 0);
});

Deno.test("session: on a busy socket a partial batch waits one poll interval", async () => {
  const r = rig({
    limits: { busyBytes: 100, highWaterBytes: 10_000, lowWaterBytes: 50, pollIntervalMs: 30 },
  });
  r.session.open();
  r.session.handleText(SUB);
  r.socket.bufferedAmount = 500; // busy, below the high-water mark
  r.dispatchTrades(1, 1);
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(r.socket.events().length, 0, "held back for more events");
  r.dispatchTrades(2, 2);
  await waitUntil("the batch", () => r.socket.events().length === 3);
  assert.equal(r.socket.frames.length, 2, "ack + one array frame");
  assert.deepEqual(seqs(r.socket.events()), [1, 2, 3]);
  assert.equal(r.session.stats().batches, 1);
});

Deno.test("session: above the high-water mark it pauses, the consumer queue drops, then it resumes", async () => {
  const r = rig({
    queueEventsMax: 4,
    limits: {
      busyBytes: 0,
      highWaterBytes: 1000,
      lowWaterBytes: 100,
      pendingMessagesMax: 2,
      slowConsumerTimeoutMs: 60_000,
    },
  });
  r.session.open();
  r.session.handleText(SUB);
  r.socket.bufferedAmount = 5000;
  r.dispatchTrades(1, 20);
  await settle(5);
  assert.equal(r.session.paused, true);
  assert.equal(r.socket.events().length, 0, "nothing sent while above the mark");
  let s = r.session.stats();
  assert.equal(s.backpressurePauses, 1);
  assert.ok(s.pendingMessages <= 2, `session holds at most 2, found ${s.pendingMessages}`);
  assert.ok(s.consumer.dropped > 0, "the consumer's bounded queue dropped the rest");
  assert.equal(s.consumer.droppedByStream[0]?.kind, "trade");

  // Commands are still answered while paused.
  r.session.handleText(SUB.replace('"s1"', '"s2"'));
  assert.equal(r.socket.acks().length, 2);

  r.socket.bufferedAmount = 500; // below high, above low: still paused
  await settle(5);
  assert.equal(r.session.paused, true);
  r.socket.bufferedAmount = 0;
  await waitUntil("resume", () => !r.session.paused && r.session.stats().pendingMessages === 0);
  await settle(5);
  s = r.session.stats();
  const got = seqs(r.socket.events());
  assert.equal(got.length + s.consumer.dropped, 20, "every event was sent or counted as dropped");
  assert.deepEqual(got, [...got].sort((a, b) => a - b), "in order");
  assert.equal(got[0], 1);

  // Delivery continues normally after the pause.
  r.dispatchTrades(100, 1);
  await settle();
  assert.equal(seqs(r.socket.events()).at(-1), 100);
  assert.equal(r.pool.inFlightCount(), 0);
});

Deno.test("session: staying above the high-water mark past the bound closes with 4008", async () => {
  const r = rig({
    limits: {
      busyBytes: 0,
      highWaterBytes: 1000,
      lowWaterBytes: 100,
      slowConsumerTimeoutMs: 30_000,
    },
  });
  r.session.open();
  r.session.handleText(SUB);
  r.socket.bufferedAmount = 5000;
  r.dispatchTrades(1, 3);
  await settle(5);
  assert.equal(r.session.paused, true);
  r.clock.ms += 29_000;
  await settle(5);
  assert.equal(r.session.state, "open", "not yet past the bound");
  // A dip below the mark restarts the clock.
  r.socket.bufferedAmount = 500;
  await settle(5);
  r.socket.bufferedAmount = 5000;
  await settle(5);
  r.clock.ms += 29_000;
  await settle(5);
  assert.equal(r.session.state, "open", "the dip restarted the bound");
  r.clock.ms += 2_000;
  await waitUntil("the slow-consumer close", () => r.session.state === "closed");
  assert.equal(r.socket.closes.length, 1);
  assert.equal(r.socket.closes[0].code, CLOSE_SLOW_CONSUMER);
  assert.match(
    r.socket.closes[0].reason!,
    /^slow consumer: send buffer above 1000 bytes for \d+ ms$/,
  );
  assert.equal(r.session.disconnectReason, "slow_consumer");
  assert.equal(r.registry.get("remote-1"), undefined, "consumer removed");
  assert.equal(r.routes.hasConsumer("remote-1"), false, "and unsubscribed");
  assert.deepEqual(r.closed, [r.session]);
  assert.equal(r.session.stats().discardedOnClose, 3, "the unsent events are counted");
  r.dispatchTrades(10, 2);
  assert.equal(r.dispatcher.stats().unrouted, 2);
});

Deno.test("session: bad commands are answered and counted; the session stays open", () => {
  const r = rig();
  r.session.open();
  r.session.handleText("{not json");
  r.session.handleText(JSON.stringify({ v: 1, type: "subscribe", req_id: "x1" }));
  r.session.handleBinary(3);
  r.session.handleText(
    JSON.stringify({ v: 1, type: "trading", req_id: "t1", consumer_id: "a", enabled: true }),
  );
  const acks = r.socket.acks();
  assert.deepEqual(
    acks.map((a) => [a.req_id, (a.error as { code: string }).code]),
    [["", "invalid_json"], ["x1", "missing_field"], ["", "binary_frame"], ["t1", "not_supported"]],
  );
  assert.equal(r.session.state, "open");
  const s = r.session.stats();
  assert.equal(s.commands, 4);
  assert.equal(s.badCommands, 3);
  assert.equal(s.unsupportedCommands, 1);
  assert.equal(r.socket.closes.length, 0);
});

Deno.test("session: a remote close removes the consumer once, even when reported twice", () => {
  const r = rig();
  r.session.open();
  r.session.handleText(SUB);
  assert.equal(r.routes.snapshot().consumers.length, 1);
  r.socket.readyState = 3;
  r.session.handleSocketClosed();
  r.session.handleSocketClosed();
  assert.equal(r.session.state, "closed");
  assert.equal(r.session.disconnectReason, "remote_closed");
  assert.equal(r.closed.length, 1);
  assert.deepEqual(r.routes.snapshot().consumers, []);
  assert.equal(r.session.handleText(SUB), null, "no command after close");
  assert.equal(r.socket.closes.length, 0, "a closed socket is not closed again");
});

Deno.test("session: events wait for open; a close asked for while connecting happens on open", async (t) => {
  await t.step("events queued before open are sent on open", async () => {
    const r = rig({ readyState: 0 });
    r.session.handleText(SUB); // ignored: not open yet
    assert.equal(r.socket.frames.length, 0);
    r.session.consumer.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
    r.dispatchTrades(1, 3);
    await settle();
    assert.equal(r.socket.frames.length, 0);
    r.socket.readyState = 1;
    r.session.open();
    await settle();
    assert.deepEqual(seqs(r.socket.events()), [1, 2, 3]);
    r.session.close(CLOSE_GOING_AWAY, "bye", "shutdown");
  });
  await t.step("close while connecting", () => {
    const r = rig({ readyState: 0 });
    r.session.close(CLOSE_GOING_AWAY, "server shutting down", "shutdown");
    assert.equal(r.session.state, "closed");
    assert.equal(r.socket.closes.length, 0, "Deno ignores close() before open");
    assert.equal(r.registry.size, 0);
    r.socket.readyState = 1;
    r.session.open();
    assert.deepEqual(r.socket.closes, [{ code: 1001, reason: "server shutting down" }]);
  });
});

Deno.test("session: a send that throws ends the session as a socket error", async () => {
  const r = rig();
  r.session.open();
  r.session.handleText(SUB);
  r.socket.send = () => {
    throw new Error("broken pipe");
  };
  r.dispatchTrades(1, 1);
  await settle();
  assert.equal(r.session.state, "closed");
  assert.equal(r.session.disconnectReason, "socket_error");
  assert.equal(r.registry.size, 0);
});

Deno.test("stream limits: defaults and checks", () => {
  const d = resolveStreamLimits();
  assert.equal(d.batchMessagesMax, 256);
  assert.equal(d.batchCharsMax, 65_536);
  assert.equal(d.highWaterBytes, 4 * 1024 * 1024);
  assert.equal(d.slowConsumerTimeoutMs, 30_000);
  assert.throws(
    () => resolveStreamLimits({ lowWaterBytes: 5, highWaterBytes: 5 }),
    /lowWaterBytes/,
  );
  assert.throws(() => resolveStreamLimits({ pollIntervalMs: 0 }), /pollIntervalMs >= 1/);
  assert.throws(
    () => resolveStreamLimits({ busyBytes: 10, highWaterBytes: 5, lowWaterBytes: 1 }),
    /busyBytes/,
  );
});

Deno.test("session: a client that sends commands but never reads is bounded too", async () => {
  const r = rig({
    limits: { busyBytes: 0, highWaterBytes: 1000, lowWaterBytes: 100, slowConsumerTimeoutMs: 10 },
  });
  r.session.open();
  r.socket.bufferedAmount = 5000;
  r.session.handleText(SUB);
  assert.equal(r.session.paused, true, "an ack past the mark pauses the session");
  r.clock.ms += 20;
  await waitUntil("the slow-consumer close", () => r.session.state === "closed");
  assert.equal(r.socket.closes[0].code, CLOSE_SLOW_CONSUMER);
});
