/**
 * Slow-consumer protection end to end: a real StreamServer on 127.0.0.1 with test-shortened
 * bounds, a real routing table, consumer registry, dispatcher and pool, fed at a fixed rate by a
 * timer. Four remote consumers read the same three streams (trades, book updates, tickers):
 *
 * - two fast ones (Deno's WebSocket client, which reads eagerly);
 * - `stuck`, a hand-rolled client that never reads: the kernel's buffers fill, then the
 *   session's send buffer passes the high-water mark, the session pauses (`onSlow`), its
 *   consumer queue coalesces tickers and counts trades and book updates into gaps, and after
 *   the slow-consumer bound the connection is closed with 4008;
 * - `pauser`, a hand-rolled client that stops reading until its session has paused, then reads
 *   again before the bound: it stays connected and receives `gap` markers and coalesced tickers.
 *
 * Timing is asserted only loosely (generous bounds); the delays measured are printed.
 */

import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../../src/dispatcher/mod.ts";
import { BoundedPool } from "../../src/pool/mod.ts";
import { CanonicalEvent, type CanonicalEventData } from "../../src/schema/mod.ts";
import { type RunningHttpServer, startHttpServer } from "../../src/server/http_server.ts";
import { type DisconnectInfo, StreamServer } from "../../src/server/stream_server.ts";
import type { SlowConsumerInfo } from "../../src/server/stream_session.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { sampleBookUpdate, sampleTicker, sampleTrade } from "../support/schema_samples.ts";
import { type RawMessage, RawWsClient } from "./raw_ws_client.ts";

const HIGH_WATER_BYTES = 64 * 1024;
const SLOW_CONSUMER_TIMEOUT_MS = 1000;
const QUEUE_EVENTS_MAX = 256;
/** Feed: every tick, this many trades, book updates and tickers. */
const TICK_MS = 3;
const TRADES_PER_TICK = 40;
const BOOK_UPDATES_PER_TICK = 10;
const TICKERS_PER_TICK = 1;
/** The pauser reads again this long after its session paused (well inside the 4008 bound). */
const PAUSER_RESUME_AFTER_MS = 150;
/** Generous bound on the fast consumers' p99 delay; a regression shows as seconds, not ms. */
const FAST_P99_BOUND_MS = 2000;
const WAIT_MS = 15_000;

const KINDS = ["trade", "book_update", "ticker"] as const;
type Kind = typeof KINDS[number];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A fast consumer: Deno's WebSocket; notes each event's delay from its `ts_recv`. */
class FastClient {
  readonly seqs: Record<Kind, number[]> = { trade: [], book_update: [], ticker: [] };
  readonly delaysMs: number[] = [];
  gaps = 0;
  closeEvent: CloseEvent | null = null;
  readonly #closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e: MessageEvent) => {
      const now = epochNowMs();
      const frame = JSON.parse(e.data as string);
      for (const m of (Array.isArray(frame) ? frame : [frame]) as RawMessage[]) {
        if (m.type === "gap") this.gaps++;
        if (m.type !== "event") continue;
        this.seqs[m.kind as Kind].push(m.seq as number);
        this.delaysMs.push(now - (m.ts_recv as number));
      }
    };
    this.#closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        this.closeEvent = e;
        resolve();
      };
    });
  }

  static async connect(port: number, id: string): Promise<FastClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?consumer=${id}`);
    const client = new FastClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
    });
    return client;
  }

  async close(): Promise<void> {
    if (this.closeEvent === null && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("close timed out")), 3000);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

/** The fixed-rate feed: per-stream sequences 1, 2, 3, ... */
class Feed {
  readonly sent: Record<Kind, number> = { trade: 0, book_update: 0, ticker: 0 };
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly pool: BoundedPool<CanonicalEvent>,
    readonly dispatcher: Dispatcher<Consumer>,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    for (let i = 0; i < TRADES_PER_TICK; i++) {
      const seq = ++this.sent.trade;
      this.#dispatch(sampleTrade({ seq, seqFirst: seq, tradeId: String(seq) }));
    }
    for (let i = 0; i < BOOK_UPDATES_PER_TICK; i++) {
      const seq = ++this.sent.book_update;
      this.#dispatch(sampleBookUpdate({ seq, seqFirst: seq, symbol: "BTC-USDT" }));
    }
    for (let i = 0; i < TICKERS_PER_TICK; i++) {
      const seq = ++this.sent.ticker;
      this.#dispatch(sampleTicker({ seq, seqFirst: seq, provider: "binance", symbol: "BTC-USDT" }));
    }
  }

  #dispatch(data: CanonicalEventData): void {
    const ev = this.pool.tryAcquire();
    assert.ok(ev !== null, "expected a free pooled event");
    ev.copyFrom(data);
    ev.recvTsMs = epochNowMs();
    this.dispatcher.dispatch(ev);
  }
}

/**
 * What one lossless stream's messages cover: every sequence from 1 up is either received as an
 * event or inside exactly one gap marker, in order; returns the last sequence covered and the
 * number of markers. Throws on a duplicate, a hole without a marker, or disorder.
 */
function coverage(messages: RawMessage[], kind: Kind): { covered: number; markers: number } {
  let covered = 0;
  let markers = 0;
  for (const m of messages) {
    if (m.kind !== kind) continue;
    if (m.type === "event") {
      assert.equal(m.seq, covered + 1, `${kind}: event ${m.seq} after ${covered}`);
      covered = m.seq as number;
    } else if (m.type === "gap") {
      assert.equal(m.from_seq, covered + 1, `${kind}: gap from ${m.from_seq} after ${covered}`);
      assert.equal(m.count, (m.to_seq as number) - (m.from_seq as number) + 1, `${kind}: count`);
      covered = m.to_seq as number;
      markers++;
    }
  }
  return { covered, markers };
}

/** Ticker sequences received: strictly increasing (coalescing keeps the latest, in order). */
function tickerSeqs(messages: RawMessage[]): number[] {
  const seqs = messages.filter((m) => m.type === "event" && m.kind === "ticker").map((m) =>
    m.seq as number
  );
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], "tickers in order");
  return seqs;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

interface Stack {
  pool: BoundedPool<CanonicalEvent>;
  consumers: ConsumerRegistry;
  dispatcher: Dispatcher<Consumer>;
  stream: StreamServer;
  http: RunningHttpServer;
  slow: SlowConsumerInfo[];
  disconnects: DisconnectInfo[];
  hookCounts: Map<string, { coalesced: number; dropped: number; gaps: number }>;
}

async function startStack(): Promise<Stack> {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 16,
    create: () => new CanonicalEvent(),
    debug: true,
  });
  const routes = new RoutingTable<Consumer>();
  const hookCounts = new Map<string, { coalesced: number; dropped: number; gaps: number }>();
  const countFor = (id: string) => {
    let c = hookCounts.get(id);
    if (c === undefined) {
      c = { coalesced: 0, dropped: 0, gaps: 0 };
      hookCounts.set(id, c);
    }
    return c;
  };
  const consumers = new ConsumerRegistry({
    routes,
    hooks: {
      onCoalesced: (_, id) => countFor(id).coalesced++,
      onDropped: (_, info) => countFor(info.consumerId).dropped++,
      onGap: (_, id) => countFor(id).gaps++,
    },
  });
  const dispatcher = new Dispatcher({ routes, pool });
  const metrics = new MetricsRegistry();
  const slow: SlowConsumerInfo[] = [];
  const disconnects: DisconnectInfo[] = [];
  const stream = new StreamServer({
    consumers,
    metrics,
    queueEventsMax: QUEUE_EVENTS_MAX,
    limits: {
      highWaterBytes: HIGH_WATER_BYTES,
      lowWaterBytes: 16 * 1024,
      busyBytes: 16 * 1024,
      slowConsumerTimeoutMs: SLOW_CONSUMER_TIMEOUT_MS,
    },
    onSlow: (info) => slow.push(info),
    onDisconnect: (info) => disconnects.push(info),
  });
  const http = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    stream,
    metrics,
    status: {
      ready: () => true,
      notReadyReason: () => "",
      pools: () => [pool.stats()],
      codec: () => ({ summary: "v8-json" }),
      metrics,
      consumers,
    },
  });
  return { pool, consumers, dispatcher, stream, http, slow, disconnects, hookCounts };
}

function subscribeAll(consumers: ConsumerRegistry, id: string): void {
  const c = consumers.get(id);
  assert.ok(c !== undefined, `consumer ${id} registered`);
  for (const kind of KINDS) {
    const r = c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind });
    assert.ok(r.ok, `${id} ${kind}`);
  }
}

Deno.test("ws: one consumer that stops reading is cut off with 4008; the fast ones are not slowed", async () => {
  const s = await startStack();
  const feed = new Feed(s.pool, s.dispatcher);
  const fast: FastClient[] = [];
  const raw: RawWsClient[] = [];
  try {
    for (const id of ["fast-1", "fast-2"]) fast.push(await FastClient.connect(s.http.port, id));
    const stuck = await RawWsClient.connect(s.http.port, "/v1/stream?consumer=stuck");
    raw.push(stuck);
    const pauser = await RawWsClient.connect(s.http.port, "/v1/stream?consumer=pauser");
    raw.push(pauser);
    for (const id of ["fast-1", "fast-2", "stuck", "pauser"]) {
      await waitUntil(`${id} open`, () => s.stream.session(id)?.state === "open");
      subscribeAll(s.consumers, id);
    }

    feed.start();
    await waitUntil(
      "both readers that stopped to pause",
      () =>
        s.slow.some((i) => i.consumerId === "stuck") &&
        s.slow.some((i) => i.consumerId === "pauser"),
    );
    await sleep(PAUSER_RESUME_AFTER_MS);
    let finalSeqs: Record<Kind, number> | null = null;
    const pauserReading = pauser.readUntil("everything", () => {
      if (finalSeqs === null) return false;
      const f = finalSeqs;
      return coverage(pauser.messages, "trade").covered === f.trade &&
        coverage(pauser.messages, "book_update").covered === f.book_update &&
        tickerSeqs(pauser.messages).at(-1) === f.ticker;
    }, WAIT_MS).then(() => null, (err: unknown) => err);

    await waitUntil("stuck cut off", () => s.disconnects.some((d) => d.consumerId === "stuck"));
    await sleep(100); // the fast consumers keep going after the cut
    feed.stop();
    finalSeqs = { ...feed.sent };
    const sent = finalSeqs;

    await waitUntil(
      "the fast consumers to catch up",
      () =>
        fast.every((c) =>
          c.seqs.trade.length === sent.trade && c.seqs.book_update.length === sent.book_update &&
          c.seqs.ticker.at(-1) === sent.ticker
        ),
    );
    const pauserError = await pauserReading;
    if (pauserError !== null) throw pauserError;

    checkFast(s, fast, sent);
    await checkStuck(s, stuck);
    checkPauser(s, pauser, sent);

    assert.equal(s.stream.stats().disconnects.slow_consumer, 1);
    assert.ok(s.stream.session("pauser") !== undefined, "the pauser is still connected");
    assert.equal(s.pool.inFlightCount(), 0, "every pooled event was released");
  } finally {
    feed.stop();
    await s.http.shutdown();
    for (const r of raw) r.close();
    await Promise.all(fast.map((c) => c.close()));
    s.consumers.close();
  }
});

/**
 * Fast consumers: every trade and book update, in order, no gaps, promptly. Tickers are
 * latest-wins for everyone: one still queued when the next arrives is replaced (rare at one per
 * tick), so they are checked for order, the final value and the count coalesced.
 */
function checkFast(s: Stack, fast: FastClient[], sent: Record<Kind, number>): void {
  for (const [i, c] of fast.entries()) {
    for (const k of ["trade", "book_update"] as const) {
      assert.deepEqual(c.seqs[k], Array.from({ length: sent[k] }, (_, i) => i + 1), k);
    }
    assert.equal(c.gaps, 0);
    const tickers = c.seqs.ticker;
    for (let j = 1; j < tickers.length; j++) assert.ok(tickers[j] > tickers[j - 1]);
    assert.equal(tickers.at(-1), sent.ticker);
    const hooks = s.hookCounts.get(`fast-${i + 1}`) ?? { coalesced: 0, dropped: 0, gaps: 0 };
    assert.equal(hooks.coalesced, sent.ticker - tickers.length);
    assert.equal(hooks.dropped, 0);
    const sorted = c.delaysMs.slice().sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    const max = sorted[sorted.length - 1];
    console.log(
      `fast consumer: ${sorted.length} events, delay p50 ${p50.toFixed(2)} ms, p99 ${
        p99.toFixed(2)
      } ms, max ${max.toFixed(2)} ms`,
    );
    assert.ok(p99 < FAST_P99_BOUND_MS, `fast consumer p99 ${p99} ms`);
  }
}

/** The consumer that never reads: paused, coalesced and gapped, then closed with 4008. */
async function checkStuck(s: Stack, stuck: RawWsClient): Promise<void> {
  const slow = s.slow.filter((i) => i.consumerId === "stuck");
  assert.equal(slow.length, 1, "one pause, reported once");
  assert.ok(slow[0].bufferedBytes > HIGH_WATER_BYTES, `buffered ${slow[0].bufferedBytes}`);
  assert.equal(slow[0].highWaterBytes, HIGH_WATER_BYTES);
  assert.ok(slow[0].behindMs >= 0);

  const gone = s.disconnects.find((d) => d.consumerId === "stuck")!;
  assert.equal(gone.reason, "slow_consumer");
  const st = gone.stats.consumer;
  assert.ok(st.coalesced > 0, `tickers coalesced while paused (${st.coalesced})`);
  assert.ok(st.dropped > 0, `trades and book updates counted into gaps (${st.dropped})`);
  // Closing the consumer discarded its full queue (and the gaps still open with it).
  assert.ok(st.discardedOnClose > 0, `queue discarded at the cut (${st.discardedOnClose})`);
  const hooks = s.hookCounts.get("stuck")!;
  assert.equal(hooks.coalesced, st.coalesced);
  assert.equal(hooks.dropped, st.dropped);
  assert.equal(s.consumers.get("stuck"), undefined, "its consumer is gone");

  // Reading now drains the kernel's buffers: a consistent prefix, then the close frame.
  const close = await stuck.readUntilCloseFrame(WAIT_MS);
  assert.equal(close.code, 4008);
  assert.match(close.reason, /^slow consumer: send buffer above 65536 bytes for \d+ ms$/);
  const ms = Number(/for (\d+) ms/.exec(close.reason)![1]);
  assert.ok(ms >= SLOW_CONSUMER_TIMEOUT_MS, close.reason);
  for (const k of ["trade", "book_update"] as const) {
    assert.ok(coverage(stuck.messages, k).covered > 0, `stuck got a prefix of ${k}`);
  }
  tickerSeqs(stuck.messages);
  console.log(
    `stuck consumer: ${stuck.messages.length} messages (${stuck.bytesRead} bytes) read after the ` +
      `cut, ${st.coalesced} coalesced, ${st.dropped} in gaps; closed: ${close.code} "${close.reason}"`,
  );
}

/** The consumer that paused and came back: explicit gaps, latest tickers, still connected. */
function checkPauser(s: Stack, pauser: RawWsClient, sent: Record<Kind, number>): void {
  let markers = 0;
  for (const k of ["trade", "book_update"] as const) {
    const c = coverage(pauser.messages, k);
    assert.equal(c.covered, sent[k], `${k} covered to the end`);
    markers += c.markers;
  }
  assert.ok(markers >= 1, "the pauser was told what it missed");
  const tickers = tickerSeqs(pauser.messages);
  assert.equal(tickers.at(-1), sent.ticker, "the latest ticker arrives");
  assert.ok(tickers.length < sent.ticker, "tickers were coalesced while it was paused");
  const hooks = s.hookCounts.get("pauser")!;
  assert.equal(hooks.gaps, markers);
  assert.ok(hooks.coalesced > 0);
  assert.equal(
    s.stream.session("pauser")!.stats().consumer.coalesced,
    hooks.coalesced,
    "counted alike by the consumer and its hooks",
  );
  console.log(
    `pauser: ${markers} gap markers, ${tickers.length}/${sent.ticker} tickers, ` +
      `${hooks.coalesced} coalesced, ${hooks.dropped} in gaps`,
  );
}
