/**
 * Pre-generated simulator output for the saturation runs: the simulator's own market generator,
 * Binance feed and stream hub, driven on a virtual clock with no network, collect the exact
 * combined-stream frames a `/stream?streams=...` connection to the simulator would receive
 * (trade, diff depth every 100 ms, bookTicker, 1 m klines for every symbol), plus one depth
 * snapshot per symbol taken right after its first diff went out. That snapshot's
 * `lastUpdateId` is the first diff's `u`, so a reader that buffers from the first frame drops
 * that diff and continues with the second (a snapshot of the untouched initial book would sit
 * one id before the first diff's `U`, which Binance's procedure, and the adapter, re-fetch as
 * "behind").
 *
 * @module
 */

import { BinanceMarketFeed, type DepthSnapshot } from "../../src/sim/binance/market_feed.ts";
import { StreamHub, type StreamSubscriber } from "../../src/sim/binance/stream_hub.ts";
import { MarketGenerator, type SymbolSpec } from "../../src/sim/market/mod.ts";

/** Generation step of the virtual clock, ms (the simulator's scheduler period). */
const TICK_MS = 10;
/** Streams per symbol, as the adapter subscribes them by default. */
const STREAM_SUFFIXES = ["@trade", "@depth@100ms", "@bookTicker", "@kline_1m"];
/** Levels per side kept in each snapshot (the adapter asks for 1000). */
const SNAPSHOT_LEVELS = 1000;

/** Frames in send order, and the depth snapshot to serve per Binance symbol (`BTCUSDT`). */
export interface GeneratedMarket {
  frames: string[];
  snapshots: Map<string, DepthSnapshot>;
}

/** Options of {@linkcode generateFrames}. */
export interface GenerateFramesOptions {
  /** Market seed (the REST simulator must use the same). */
  seed: number;
  /** Frames to produce (at least). */
  framesMin: number;
  /** Virtual generator events per second (sets diff sizes and kline cadence per trade). */
  eventsPerSecond: number;
  /** Virtual wall clock at the start, epoch ms. */
  startMs: number;
}

/**
 * The frames and snapshots. Uses the simulator's default book sizes (100 levels at start, at
 * most 1000) and real-time stream periods, as `startBinanceSim` does by default. A symbol whose
 * first diff never came gets its initial book (its book will not sync; the run reports it).
 */
export function generateFrames(
  specs: readonly SymbolSpec[],
  opts: GenerateFramesOptions,
): GeneratedMarket {
  const generator = new MarketGenerator({
    seed: opts.seed,
    symbols: specs,
    levelsInitial: 100,
    levelsMax: 1000,
  });
  let virtualMs = opts.startMs;
  let monotonicMs = 0;
  let feed: BinanceMarketFeed | null = null;
  const hub = new StreamHub((channel) => feed?.onChannelActivated(channel));
  feed = new BinanceMarketFeed({
    generator,
    names: generator.symbols.map((s) => s.base + s.quote),
    hub,
    clock: () => virtualMs,
    timings: {
      depthIntervalMs: 1000,
      depthFastIntervalMs: 100,
      tickerIntervalMs: 1000,
      klineUpdateMs: 2000,
      klineBarScale: 1,
    },
    monotonicMs,
  });
  const frames: string[] = [];
  const collector: StreamSubscriber = { combined: true, sendFrame: (text) => frames.push(text) };
  /** `{"stream":"btcusdt@depth@100ms"` -> `BTCUSDT`, for spotting each symbol's first diff. */
  const depthPrefixes = new Map<string, string>();
  for (const s of generator.symbols) {
    const name = s.base + s.quote;
    const lower = name.toLowerCase();
    for (const suffix of STREAM_SUFFIXES) hub.subscribe(collector, lower + suffix);
    depthPrefixes.set(`{"stream":"${lower}@depth@100ms"`, name);
  }
  const snapshots = new Map<string, DepthSnapshot>();
  const perTick = Math.max(1, Math.round((opts.eventsPerSecond * TICK_MS) / 1000));
  while (frames.length < opts.framesMin) {
    const tickStart = frames.length;
    virtualMs += TICK_MS;
    monotonicMs += TICK_MS;
    generator.generate(perTick, virtualMs, feed.onEvent);
    feed.endBatch();
    feed.onTick(monotonicMs);
    if (snapshots.size === depthPrefixes.size) continue;
    for (let i = tickStart; i < frames.length; i++) {
      const text = frames[i];
      const end = text.indexOf('"', 11);
      const name = end === -1 ? undefined : depthPrefixes.get(text.slice(0, end + 1));
      if (name !== undefined && !snapshots.has(name)) {
        // Taken after the whole tick: the book is exactly as of this diff's `u`.
        snapshots.set(name, feed.depth(name, SNAPSHOT_LEVELS));
      }
    }
  }
  for (const name of depthPrefixes.values()) {
    if (!snapshots.has(name)) snapshots.set(name, feed.depth(name, SNAPSHOT_LEVELS));
  }
  return { frames, snapshots };
}
