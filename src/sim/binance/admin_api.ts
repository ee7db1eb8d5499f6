/**
 * The simulator's own control endpoints, for out-of-process tests and manual runs
 * (not part of Binance's API; everything lives under `/_sim/`):
 *
 * | request | effect |
 * |---|---|
 * | `POST /_sim/fault` with a `FaultCommand` JSON body | injects or clears a fault |
 * | `GET /_sim/stats` | counters |
 * | `GET /_sim/connections` | open connections |
 * | `GET /_sim/book?symbol=BTCUSDT&limit=N` | the simulator's current book |
 * | `POST /_sim/pause`, `POST /_sim/resume` | stop / restart the market generator |
 *
 * @module
 */

import { type BinanceSimFaults, FaultCommandError } from "./fault_controller.ts";

/** What the admin endpoints act on. */
export interface AdminTarget {
  /** Fault knobs. */
  readonly faults: BinanceSimFaults;
  /** Counters as a JSON-able object. */
  stats(): unknown;
  /** Open connections as a JSON-able list. */
  connections(): unknown;
  /** The current book of `symbol`; throws a RangeError for an unknown symbol or in replay mode. */
  bookSnapshot(symbol: string, levelsMax: number): unknown;
  /** Stops generation. */
  pause(): void;
  /** Restarts generation. */
  resume(): void;
}

/** Answers a `/_sim/...` request. */
export async function handleAdminRequest(request: Request, target: AdminTarget): Promise<Response> {
  const url = new URL(request.url);
  const route = `${request.method} ${url.pathname}`;
  try {
    switch (route) {
      case "POST /_sim/fault": {
        let command: unknown;
        try {
          command = JSON.parse(await request.text());
        } catch {
          return reply(400, { error: "fault command: expected a JSON body" });
        }
        return reply(200, { ok: true, ...target.faults.apply(command) });
      }
      case "GET /_sim/stats":
        return reply(200, target.stats());
      case "GET /_sim/connections":
        return reply(200, target.connections());
      case "GET /_sim/book": {
        const limit = Number(url.searchParams.get("limit") ?? "5000");
        return reply(200, target.bookSnapshot(url.searchParams.get("symbol") ?? "", limit));
      }
      case "POST /_sim/pause":
        target.pause();
        return reply(200, { ok: true });
      case "POST /_sim/resume":
        target.resume();
        return reply(200, { ok: true });
      default:
        await request.body?.cancel();
        return reply(404, { error: `unknown admin endpoint: ${route}` });
    }
  } catch (err) {
    if (err instanceof FaultCommandError || err instanceof RangeError) {
      return reply(400, { error: err.message });
    }
    throw err;
  }
}

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}
