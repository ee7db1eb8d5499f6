/**
 * Replays the recorded Binance session of 2021-10-12 (`shared/data/recordings/`, see its README)
 * through the codec, the normalizer and one BinanceBookAssembler per symbol, serving each
 * symbol's REST snapshot from the HTTP recording at the time it was received.
 */

import assert from "node:assert/strict";
import {
  BinanceBookAssembler,
  type BinanceDepthSnapshot,
} from "../../src/adapter/binance/book_assembler.ts";
import { normalizeBinance } from "../../src/adapter/binance/normalize.ts";
import type { ResyncReason } from "../../src/adapter/shared/book_sync_state.ts";
import { OrderBook } from "../../src/adapter/shared/order_book.ts";
import { decodeBinanceFrame } from "../../src/codec/mod.ts";
import { BoundedPool } from "../../src/pool/mod.ts";
import { CanonicalEvent, validateCanonicalEvent } from "../../src/schema/canonical_event.ts";
import { ProviderRaw } from "../../src/schema/provider_raw.ts";

const RECORDINGS = new URL("../../../shared/data/recordings/", import.meta.url);
const WS_FILE = new URL("binance_spot_ws_2021-10-12.txt", RECORDINGS);
const HTTP_FILE = new URL("binance_spot_http_2021-10-12.txt", RECORDINGS);

function exists(url: URL): boolean {
  try {
    return Deno.statSync(url).isFile;
  } catch {
    return false;
  }
}

const present = exists(WS_FILE) && exists(HTTP_FILE);
if (!present) {
  console.warn(
    `SKIP binance book replay: recordings not found at ${RECORDINGS.pathname} ` +
      "(they live outside the project, in shared/data/recordings/)",
  );
}

/** Exchange symbol -> canonical symbol for the four recorded markets. */
const SYMBOLS: ReadonlyMap<string, string> = new Map([
  ["NKNUSDT", "NKN-USDT"],
  ["BLZETH", "BLZ-ETH"],
  ["LRCBTC", "LRC-BTC"],
  ["RUNEEUR", "RUNE-EUR"],
]);

/** What the recordings' README states, checked by an independent script. */
const EXPECTED: Record<string, { dropped: number; applied: number; bid: string; ask: string }> = {
  NKNUSDT: { dropped: 1, applied: 149, bid: "0.35270000", ask: "0.35310000" },
  BLZETH: { dropped: 1, applied: 9, bid: "0.00006547", ask: "0.00006560" },
  LRCBTC: { dropped: 2, applied: 13, bid: "0.00000637", ask: "0.00000638" },
  RUNEEUR: { dropped: 1, applied: 1, bid: "6.25100000", ask: "6.26900000" },
};

interface RecordedSnapshot {
  recvMs: number;
  body: BinanceDepthSnapshot;
}

/** `<url> -> <receive time>: <body>` lines of the HTTP recording, by symbol. */
function readSnapshots(text: string): Map<string, RecordedSnapshot> {
  const out = new Map<string, RecordedSnapshot>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const arrow = line.indexOf(" -> ");
    const colon = line.indexOf(": ", arrow);
    assert.ok(arrow > 0 && colon > arrow, `expected "<url> -> <time>: <body>", found ${line}`);
    const symbol = new URL(line.slice(0, arrow)).searchParams.get("symbol");
    assert.ok(symbol !== null && SYMBOLS.has(symbol), `unexpected snapshot symbol ${symbol}`);
    const recvMs = Number(line.slice(arrow + 4, colon)) * 1000;
    const body = JSON.parse(line.slice(colon + 2)) as BinanceDepthSnapshot;
    out.set(symbol, { recvMs, body: { ...body, recvTsMs: recvMs } });
  }
  return out;
}

/** `<receive time>: <frame>` lines of the WebSocket recording (line 1 is the URL header). */
function readFrames(text: string): { recvMs: number; frame: string }[] {
  const lines = text.split("\n");
  assert.match(lines[0], /^wss:\/\/stream\.binance\.com.* <-> [0-9.]+$/);
  const out: { recvMs: number; frame: string }[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(": ");
    assert.ok(colon > 0, `expected "<time>: <frame>", found ${line.slice(0, 80)}`);
    out.push({ recvMs: Number(line.slice(0, colon)) * 1000, frame: line.slice(colon + 2) });
  }
  return out;
}

/**
 * When a requested snapshot is answered: at its recorded receive time on the replay clock, or
 * at once (before the next frame is fed).
 */
type SnapshotTiming = "recorded" | "immediate";

for (const timing of ["recorded", "immediate"] as const) {
  Deno.test({
    name: `replaying the 2021-10-12 recording syncs all four books as documented (${timing})`,
    ignore: !present,
    fn: () => replay(timing),
  });
}

async function replay(timing: SnapshotTiming): Promise<void> {
  const snapshots = readSnapshots(await Deno.readTextFile(HTTP_FILE));
  const frames = readFrames(await Deno.readTextFile(WS_FILE));
  const pool = new BoundedPool<CanonicalEvent>({
    name: "events",
    capacity: 64,
    create: () => new CanonicalEvent(),
  });
  const raw = new ProviderRaw();

  /** Snapshot requests waiting for the replay clock to reach the recorded receive time. */
  const pending: { symbol: string; resolve: (s: BinanceDepthSnapshot) => void }[] = [];
  const served = new Set<string>();
  const resyncs: string[] = [];
  /** A downstream consumer per symbol: rebuilds the book from what was emitted. */
  const downstream = new Map<string, { book: OrderBook; seq: number; events: number }>();
  const assemblers = new Map<string, BinanceBookAssembler>();

  for (const [symbol, canonicalSymbol] of SYMBOLS) {
    downstream.set(canonicalSymbol, { book: new OrderBook(), seq: -1, events: 0 });
    assemblers.set(
      symbol,
      new BinanceBookAssembler({
        symbol,
        canonicalSymbol,
        eventPool: pool,
        fetchSnapshot: (s) => {
          assert.equal(served.has(s), false, `${s}: a second snapshot was requested`);
          served.add(s);
          return new Promise((resolve) => pending.push({ symbol: s, resolve }));
        },
        emit: (ev) => {
          assert.equal(validateCanonicalEvent(ev), null);
          const view = downstream.get(ev.symbol)!;
          if (ev.kind === "book_snapshot") {
            const levels = ev.clone(); // a pooled event's stores are longer than its levels
            view.book.loadSnapshot(levels.bids, levels.asks);
          } else {
            assert.ok(view.seq >= 0, "an update before the snapshot");
            assert.ok(ev.seqFirst <= view.seq + 1, `${ev.symbol}: emitted updates skip ids`);
            view.book.applyFlat("bid", ev.bidStore, ev.bidsLength);
            view.book.applyFlat("ask", ev.askStore, ev.asksLength);
          }
          assert.equal(view.book.isCrossed(), false, `${ev.symbol}: a crossed book emitted`);
          view.seq = ev.seq;
          view.events++;
          pool.release(ev);
        },
        onResync: (r) => resyncs.push(`${r.symbol}:${r.reason satisfies ResyncReason}`),
      }),
    );
  }

  /** Serves the snapshots whose recorded receive time the replay clock has reached. */
  async function serveDue(nowMs: number): Promise<void> {
    for (let i = 0; i < pending.length;) {
      const p = pending[i];
      const recorded = snapshots.get(p.symbol);
      assert.ok(recorded !== undefined, `no recorded snapshot for ${p.symbol}`);
      if (timing === "recorded" && recorded.recvMs > nowMs) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      p.resolve(recorded.body);
      await assemblers.get(p.symbol)!.whenSettled();
    }
  }

  let depthFrames = 0;
  for (const { recvMs, frame } of frames) {
    await serveDue(recvMs);
    raw.recvTsMs = recvMs;
    decodeBinanceFrame(frame, raw);
    for (const a of assemblers.values()) a.tick(recvMs);
    if (raw.eventType !== "depthUpdate") continue;
    depthFrames++;
    const ev = pool.tryAcquire();
    assert.ok(ev !== null, "event pool exhausted");
    assert.equal(normalizeBinance(raw, ev, SYMBOLS), null);
    assemblers.get(raw.symbol)!.onDiff(ev);
  }
  await serveDue(Infinity);
  assert.equal(depthFrames, 177);

  assert.deepEqual(resyncs, [], "no gap, no crossed book, no other resync");
  for (const [symbol, expected] of Object.entries(EXPECTED)) {
    const a = assemblers.get(symbol)!;
    const s = a.stats();
    assert.equal(s.state, "LIVE", `${symbol} state`);
    assert.equal(s.dropped, expected.dropped, `${symbol} dropped`);
    assert.equal(s.applied, expected.applied, `${symbol} applied`);
    assert.equal(s.bestBid, expected.bid, `${symbol} best bid`);
    assert.equal(s.bestAsk, expected.ask, `${symbol} best ask`);
    assert.equal(a.book.isCrossed(), false);
    a.book.checkInvariants();
    // The downstream view built only from emitted events equals the assembler's book.
    const view = downstream.get(SYMBOLS.get(symbol)!)!;
    assert.equal(view.seq, a.bookId, `${symbol}: emitted ids reach the book id`);
    for (const side of ["bid", "ask"] as const) {
      const mine: string[] = [];
      const theirs: string[] = [];
      a.book.toFlat(mine, side, Infinity);
      view.book.toFlat(theirs, side, Infinity);
      assert.deepEqual(theirs, mine, `${symbol} ${side}s seen downstream`);
    }
    const liveUpdates = view.events - 1;
    assert.ok(liveUpdates <= expected.applied, `${symbol}: one snapshot, then live updates`);
    a.close();
  }
  assert.equal(pool.inFlightCount(), 0, "every pooled event came home");
}
