/**
 * Child process: the saturation source. The simulator cannot generate frames faster than about
 * 70k/s on one core (generation and encoding cost ~7 µs a frame), which is below what the
 * pipeline takes, so for the throughput ceiling the simulator's output is generated up front
 * (`blast_frames.ts`) and pushed over a WebSocket as fast as the reader drains it. The same
 * port answers the two REST calls the adapter makes, with the simulator's own encoders:
 * `/api/v3/exchangeInfo` and `/api/v3/depth` (the snapshot taken with each symbol's first diff).
 *
 * Argument: one JSON object, {@linkcode BlastChildArgs}. Protocol (`child_io.ts`): prints
 * `READY {restUrl, wsUrl, frames, prepMs}` once the frames exist. Each new WebSocket connection
 * gets the frames from the first one (the snapshots match that start), and its send times are
 * logged from then on. `trickle` sends at {@linkcode TRICKLE_FRAMES_PER_SECOND} (so the
 * reader's books can sync before the flood); `warm` pushes flat out; `dump <path>` stops, writes
 * the send log and prints `DUMPED`.
 *
 * @module
 */

import { encodeExchangeInfo, exchangeSymbolOf } from "../../src/sim/binance/exchange_info.ts";
import { encodeBookDepth, encodeLevels } from "../../src/sim/binance/market_encoder.ts";
import { jsonResponse } from "../../src/sim/binance/rest_api.ts";
import { resolveSymbolSpec, type SymbolSpec } from "../../src/sim/market/mod.ts";
import type { DepthSnapshot } from "../../src/sim/binance/market_feed.ts";
import { generateFrames } from "./blast_frames.ts";
import { reply, serveCommands, sharedNowMs } from "./child_io.ts";
import { SendLog } from "./send_log.ts";
import { benchSymbolSpecs } from "./symbol_specs.ts";

/** Arguments of the blaster child. */
export interface BlastChildArgs {
  /** Market seed. */
  seed: number;
  /** Instruments. */
  symbols: number;
  /** Frames generated up front. */
  frames: number;
  /** Virtual generator rate the frames are generated at, events per second. */
  eventsPerSecond: number;
  /** Unsent bytes the socket may hold before the pump waits. */
  highWaterBytes: number;
}

/** Frames sent between two `bufferedAmount` reads. */
const CHECK_EVERY_FRAMES = 64;
/** Most frames sent per macrotask (lets stdin commands and the socket's writes through). */
const BURST_FRAMES_MAX = 2048;
/** Pace of `trickle`, frames per second (well below any pipeline's capacity). */
const TRICKLE_FRAMES_PER_SECOND = 20_000;
/** Period of the trickle timer, ms. */
const TRICKLE_INTERVAL_MS = 10;

async function main(): Promise<void> {
  const args = JSON.parse(Deno.args[0]) as BlastChildArgs;
  const specs = benchSymbolSpecs(args.symbols);
  const prepStartMs = performance.now();
  const { frames, snapshots } = generateFrames(specs, {
    seed: args.seed,
    framesMin: args.frames,
    eventsPerSecond: args.eventsPerSecond,
    startMs: Date.now(),
  });
  const prepMs = performance.now() - prepStartMs;
  const log = new SendLog({
    symbols: specs.map((s) => [s.base, s.quote] as const),
    recordsMax: frames.length,
  });

  // A holder, not a `let`: closures assign it, which TypeScript's narrowing cannot follow.
  const current: { socket: WebSocket | null } = { socket: null };
  let next = 0;
  let mode: "idle" | "trickle" | "flood" = "idle";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let allSentAtMs = 0;
  const sendUpTo = (ws: WebSocket, framesMax: number): number => {
    let sent = 0;
    while (next < frames.length && sent < framesMax) {
      if (sent % CHECK_EVERY_FRAMES === 0 && ws.bufferedAmount >= args.highWaterBytes) break;
      const text = frames[next++];
      log.onSend(text);
      ws.send(text);
      sent++;
    }
    if (next >= frames.length && allSentAtMs === 0) allSentAtMs = sharedNowMs();
    return sent;
  };
  const pump = (): void => {
    timer = undefined;
    const ws = current.socket;
    if (ws === null || ws.readyState !== WebSocket.OPEN || mode === "idle") return;
    if (mode === "trickle") {
      sendUpTo(ws, (TRICKLE_FRAMES_PER_SECOND * TRICKLE_INTERVAL_MS) / 1000);
      if (next < frames.length) timer = setTimeout(pump, TRICKLE_INTERVAL_MS);
      return;
    }
    const sent = sendUpTo(ws, BURST_FRAMES_MAX);
    if (next < frames.length) timer = setTimeout(pump, sent === 0 ? 1 : 0);
  };
  const setMode = (to: typeof mode): void => {
    mode = to;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (mode !== "idle") pump();
  };

  const exchangeInfo = encodeExchangeInfo(exchangeSymbols(specs), {
    serverTimeMs: Date.now(),
    weightLimit: 6000,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return restAnswer(new URL(request.url), exchangeInfo, snapshots);
    }
    const upgraded = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    const ws = upgraded.socket;
    ws.onopen = () => {
      // A new reader starts from the first frame: the snapshots match that start.
      const keep = mode;
      setMode("idle");
      current.socket?.close();
      current.socket = ws;
      next = 0;
      allSentAtMs = 0;
      log.clear();
      log.recording = true;
      setMode(keep);
    };
    ws.onclose = () => {
      if (current.socket === ws) {
        setMode("idle");
        current.socket = null;
      }
    };
    ws.onerror = () => {};
    return upgraded.response;
  });
  reply("READY", {
    restUrl: `http://127.0.0.1:${server.addr.port}`,
    wsUrl: `ws://127.0.0.1:${server.addr.port}`,
    frames: frames.length,
    prepMs,
  });

  await serveCommands(async (command, arg) => {
    if (command === "trickle") {
      setMode("trickle");
    } else if (command === "warm") {
      setMode("flood");
    } else if (command === "dump") {
      setMode("idle");
      log.recording = false;
      await log.write(arg);
      reply("DUMPED", {
        records: log.count,
        dropped: log.dropped,
        framesSeen: log.framesSeen,
        framesSent: next,
        frames: frames.length,
        allSentAtMs,
      });
    } else {
      reply("ERROR", {
        message: `expected trickle, warm, dump, probe or exit, found "${command}"`,
      });
    }
  });
  setMode("idle");
  current.socket?.close();
  await server.shutdown();
}

/** Exchange symbols of `specs`, as the simulator lists them. */
function exchangeSymbols(specs: readonly SymbolSpec[]) {
  return specs.map((spec, index) => exchangeSymbolOf(resolveSymbolSpec(spec, { index })));
}

/** The two REST answers the adapter needs; 404 for anything else. */
function restAnswer(
  url: URL,
  exchangeInfo: string,
  snapshots: ReadonlyMap<string, DepthSnapshot>,
): Response {
  if (url.pathname === "/api/v3/exchangeInfo") {
    return jsonResponse(200, { body: exchangeInfo, usedWeight: 0 });
  }
  if (url.pathname === "/api/v3/depth") {
    const snapshot = snapshots.get(url.searchParams.get("symbol") ?? "");
    if (snapshot !== undefined) {
      const limit = Number(url.searchParams.get("limit") ?? 100);
      return jsonResponse(200, {
        body: encodeBookDepth(snapshot.lastUpdateId, {
          bids: encodeLevels(snapshot.bids.slice(0, limit)),
          asks: encodeLevels(snapshot.asks.slice(0, limit)),
        }),
        usedWeight: 0,
      });
    }
  }
  return jsonResponse(404, {
    body: JSON.stringify({ code: -1000, msg: `unknown endpoint or symbol: ${url.pathname}` }),
    usedWeight: 0,
  });
}

if (import.meta.main) await main();
