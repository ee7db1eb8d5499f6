/**
 * Options of the Binance simulator and their resolution: every timing has Binance's real value
 * as its default, multiplied by `timeScale` (so `timeScale: 0.01` makes a 24 h lifetime last
 * 14.4 minutes and a 1000 ms depth stream tick every 10 ms), and each can be overridden in ms.
 *
 * @module
 */

import type { SymbolSpec } from "../market/mod.ts";
import { BINANCE_SIM_CREDENTIALS, type BinanceSimAccount } from "./orders/request_auth.ts";

/** Replay of a recorded session instead of the generated market. */
export interface BinanceReplayOptions {
  /** WebSocket recording: line 1 = URL, then `<unix secs>: <frame>` lines. */
  readonly wsFile: string;
  /** HTTP recording: `<request URL> -> <unix secs>: <body>` lines (depth snapshots). */
  readonly httpFile?: string;
  /** Pacing: 1 = original timing, 10 = ten times faster, 0 = as fast as possible (default 1). */
  readonly speed?: number;
}

/** Options of {@link startBinanceSim}. */
export interface BinanceSimOptions {
  /** Interface to bind (default `127.0.0.1`). */
  readonly hostname?: string;
  /** Port (default 0 = any free port; read the bound one from `sim.port`). */
  readonly port?: number;
  /** Market seed (default 1). */
  readonly seed?: number;
  /** Binance symbols to serve, upper case (`["BTCUSDT","ETHUSDT"]`; default all defaults). */
  readonly symbols?: readonly string[];
  /** Instrument definitions (default `DEFAULT_SYMBOL_SPECS`); `symbols` filters them. */
  readonly symbolSpecs?: readonly SymbolSpec[];
  /** Generated market events per second over all symbols (default 1000). */
  readonly eventsPerSecond?: number;
  /** Start with the generator paused (`sim.resume()` starts it; default false). */
  readonly paused?: boolean;
  /** Per-venue price offset in basis points (default 0). */
  readonly priceOffsetBps?: number;
  /** Book levels per side at start (default 100). */
  readonly levelsInitial?: number;
  /** Most book levels per side (default 1000). */
  readonly levelsMax?: number;
  /** Multiplier applied to every default timing below (default 1 = Binance's real timings). */
  readonly timeScale?: number;
  /** Scheduler period: generation batches and periodic streams (default 10 ms, not scaled). */
  readonly tickMs?: number;
  /**
   * Keep-alive ping period (default 20 000 ms). Deno sends the ping itself after half of its
   * `idleTimeout` of inbound silence and closes after the same again without an answer, so the
   * socket's idleTimeout is set to twice this value.
   */
  readonly pingIntervalMs?: number;
  /** Forced disconnect after this long (default 24 h). */
  readonly connectionLifetimeMs?: number;
  /** Send `serverShutdown` this long before the lifetime close (default 0 = never). */
  readonly serverShutdownNoticeMs?: number;
  /** Inbound messages allowed per window before disconnect (default 5). */
  readonly inboundMessagesMax?: number;
  /** The inbound window (default 1000 ms; not scaled, a shorter window would loosen the limit). */
  readonly inboundWindowMs?: number;
  /** Streams per connection (default 1024). */
  readonly streamsMax?: number;
  /** Period of `@depth` and `@depthN` (default 1000 ms). */
  readonly depthIntervalMs?: number;
  /** Period of `@depth@100ms` and `@depthN@100ms` (default 100 ms). */
  readonly depthFastIntervalMs?: number;
  /** Period of ticker, miniTicker, `!miniTicker@arr` and avgPrice (default 1000 ms). */
  readonly tickerIntervalMs?: number;
  /** Period of open-kline updates (default 2000 ms; `1s` klines use half). */
  readonly klineUpdateMs?: number;
  /** Multiplier on kline bar lengths (default `timeScale`: a 1m bar lasts 60 000 × scale ms). */
  readonly klineBarScale?: number;
  /** REST weight allowed per window per IP (default 6000). */
  readonly weightLimit?: number;
  /** REST weight window (default 60 000 ms, aligned to multiples of itself like Binance's minute). */
  readonly weightWindowMs?: number;
  /** IP ban after ignoring a 429 (default 120 000 ms). */
  readonly banMs?: number;
  /** Requests tolerated during a 429 back-off before the ban (default 0: the next one bans). */
  readonly requestsAfter429Max?: number;
  /** Book snapshots kept for the stale-snapshot fault: capture period (default 250 ms). */
  readonly snapshotHistoryIntervalMs?: number;
  /** Book snapshots kept for the stale-snapshot fault: how many (default 40). */
  readonly snapshotHistoryCount?: number;
  /** Close a connection whose unsent bytes exceed this (default 64 MiB). */
  readonly sendBufferBytesMax?: number;
  /** Wall clock for timestamps, ms since the epoch (default `Date.now`). */
  readonly clock?: () => number;
  /** Replay recordings instead of generating a market. */
  readonly replay?: BinanceReplayOptions;
  /** API key pairs the order side accepts (default: one, `BINANCE_SIM_CREDENTIALS`). */
  readonly accounts?: readonly BinanceSimAccount[];
  /**
   * Starting balances of every account, per asset (default: 1000 of every base asset and
   * 10 000 000 of every quote asset).
   */
  readonly orderBalances?: Record<string, string>;
}

/** Options with every default filled in. */
export interface ResolvedBinanceSimOptions {
  readonly hostname: string;
  readonly port: number;
  readonly seed: number;
  readonly symbols: readonly string[] | null;
  readonly symbolSpecs: readonly SymbolSpec[] | null;
  readonly eventsPerSecond: number;
  readonly paused: boolean;
  readonly priceOffsetBps: number;
  readonly levelsInitial: number;
  readonly levelsMax: number;
  readonly timeScale: number;
  readonly tickMs: number;
  readonly pingIntervalMs: number;
  readonly connectionLifetimeMs: number;
  readonly serverShutdownNoticeMs: number;
  readonly inboundMessagesMax: number;
  readonly inboundWindowMs: number;
  readonly streamsMax: number;
  readonly depthIntervalMs: number;
  readonly depthFastIntervalMs: number;
  readonly tickerIntervalMs: number;
  readonly klineUpdateMs: number;
  readonly klineBarScale: number;
  readonly weightLimit: number;
  readonly weightWindowMs: number;
  readonly banMs: number;
  readonly requestsAfter429Max: number;
  readonly snapshotHistoryIntervalMs: number;
  readonly snapshotHistoryCount: number;
  readonly sendBufferBytesMax: number;
  readonly clock: () => number;
  readonly replay: Required<BinanceReplayOptions> | null;
  readonly accounts: readonly BinanceSimAccount[];
  /** null: the default (see {@link BinanceSimOptions.orderBalances}). */
  readonly orderBalances: Record<string, string> | null;
}

/**
 * Fills in defaults and validates. Throws a `RangeError` naming the bad option.
 *
 * @example
 * ```ts
 * resolveBinanceSimOptions({ timeScale: 0.01 }).connectionLifetimeMs; // 864000
 * ```
 */
export function resolveBinanceSimOptions(
  options: BinanceSimOptions = {},
): ResolvedBinanceSimOptions {
  const scale = options.timeScale ?? 1;
  if (!(Number.isFinite(scale) && scale > 0 && scale <= 1000)) {
    throw new RangeError(`timeScale: expected a number in (0, 1000], found ${scale}`);
  }
  const scaled = (name: keyof BinanceSimOptions, realMs: number, minMs = 1): number => {
    const given = options[name] as number | undefined;
    const value = given ?? Math.max(minMs, Math.round(realMs * scale));
    return checkNumber(name, value, 0, 10 * 365 * 86_400_000);
  };
  const count = (name: keyof BinanceSimOptions, fallback: number, min = 0, max = 1e9): number => {
    const value = (options[name] as number | undefined) ?? fallback;
    if (!Number.isInteger(value)) {
      throw new RangeError(`${name}: expected an integer, found ${value}`);
    }
    return checkNumber(name, value, min, max);
  };
  const replay = options.replay === undefined ? null : {
    wsFile: options.replay.wsFile,
    httpFile: options.replay.httpFile ?? "",
    speed: checkNumber("replay.speed", options.replay.speed ?? 1, 0, 1e6),
  };
  return {
    hostname: options.hostname ?? "127.0.0.1",
    port: count("port", 0, 0, 65535),
    seed: count("seed", 1, -(2 ** 31), 2 ** 32),
    symbols: options.symbols ?? null,
    symbolSpecs: options.symbolSpecs ?? null,
    eventsPerSecond: checkNumber("eventsPerSecond", options.eventsPerSecond ?? 1000, 0, 10_000_000),
    paused: options.paused ?? false,
    priceOffsetBps: count("priceOffsetBps", 0, -4999, 4999),
    levelsInitial: count("levelsInitial", 100, 10, 100_000),
    levelsMax: count("levelsMax", 1000, 10, 100_000),
    timeScale: scale,
    tickMs: checkNumber("tickMs", options.tickMs ?? 10, 1, 1000),
    pingIntervalMs: scaled("pingIntervalMs", 20_000, 50),
    // setTimeout cannot wait longer than 2^31 - 1 ms.
    connectionLifetimeMs: Math.min(scaled("connectionLifetimeMs", 86_400_000, 10), 2_147_483_647),
    serverShutdownNoticeMs: checkNumber(
      "serverShutdownNoticeMs",
      options.serverShutdownNoticeMs ?? 0,
      0,
      86_400_000,
    ),
    inboundMessagesMax: count("inboundMessagesMax", 5, 1, 1_000_000),
    inboundWindowMs: checkNumber("inboundWindowMs", options.inboundWindowMs ?? 1000, 1, 3_600_000),
    streamsMax: count("streamsMax", 1024, 1, 1_000_000),
    depthIntervalMs: scaled("depthIntervalMs", 1000),
    depthFastIntervalMs: scaled("depthFastIntervalMs", 100),
    tickerIntervalMs: scaled("tickerIntervalMs", 1000),
    klineUpdateMs: scaled("klineUpdateMs", 2000),
    klineBarScale: checkNumber("klineBarScale", options.klineBarScale ?? scale, 1e-6, 1000),
    weightLimit: count("weightLimit", 6000, 0, 1e9),
    weightWindowMs: scaled("weightWindowMs", 60_000, 10),
    banMs: scaled("banMs", 120_000, 10),
    requestsAfter429Max: count("requestsAfter429Max", 0, 0, 1e9),
    snapshotHistoryIntervalMs: scaled("snapshotHistoryIntervalMs", 250, 1),
    snapshotHistoryCount: count("snapshotHistoryCount", 40, 1, 10_000),
    sendBufferBytesMax: count("sendBufferBytesMax", 64 * 1024 * 1024, 1024, 2 ** 40),
    clock: options.clock ?? Date.now,
    replay,
    accounts: options.accounts ?? [BINANCE_SIM_CREDENTIALS],
    orderBalances: options.orderBalances ?? null,
  };
}

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (!(typeof value === "number" && Number.isFinite(value) && value >= min && value <= max)) {
    throw new RangeError(`${name}: expected a number in [${min}, ${max}], found ${value}`);
  }
  return value;
}
