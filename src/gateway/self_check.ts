/**
 * Start-up self-check: pushes known Binance frames through the real hot path
 * (WsFrame -> codec -> ProviderRaw -> normalizer -> CanonicalEvent) using the real pools, checks
 * every field against the documented values, releases everything and checks the pools balance.
 * The gateway is not ready until it passes.
 *
 * @module
 */

import { normalizeBinance } from "../adapter/binance/normalize.ts";
import { decodeBinanceFrame } from "../codec/mod.ts";
import { type CanonicalEventData, validateCanonicalEvent } from "../schema/canonical_event.ts";
import type { SchemaPools } from "../schema/mod.ts";

/** One check and its outcome. */
export interface SelfCheckStep {
  name: string;
  ok: boolean;
  detail: string;
}

/** Outcome of {@linkcode runSelfCheck}. */
export interface SelfCheckResult {
  ok: boolean;
  steps: SelfCheckStep[];
}

interface Vector {
  name: string;
  frame: string;
  expect: Partial<CanonicalEventData>;
}

// Documented message shapes (shared/protocols/binance.md §1.4), one per hot decoder.
const VECTORS: readonly Vector[] = [
  {
    name: "binance trade (combined stream)",
    frame: '{"stream":"btcusdt@trade","data":{"e":"trade","E":1767225600123,"s":"BTCUSDT",' +
      '"t":5012345678,"p":"87250.01000000","q":"0.00120000","T":1767225600121,"m":false,"M":true}}',
    expect: {
      kind: "trade",
      symbol: "BTC-USDT",
      tradeId: "5012345678",
      price: "87250.01000000",
      qty: "0.00120000",
      side: "buy",
      seq: 5012345678,
      exchangeTsMs: 1767225600121,
    },
  },
  {
    name: "binance depthUpdate (raw stream)",
    frame: '{"e":"depthUpdate","E":1767225600200,"s":"BTCUSDT","U":71234501,"u":71234507,' +
      '"b":[["87250.00000000","1.20500000"],["87249.50000000","0.00000000"]],' +
      '"a":[["87250.01000000","0.31000000"]]}',
    expect: {
      kind: "book_update",
      symbol: "BTC-USDT",
      seqFirst: 71234501,
      seq: 71234507,
      bids: ["87250.00000000", "1.20500000", "87249.50000000", "0.00000000"],
      asks: ["87250.01000000", "0.31000000"],
    },
  },
];

const SYMBOLS: ReadonlyMap<string, string> = new Map([["BTCUSDT", "BTC-USDT"]]);

function compare(got: CanonicalEventData, expect: Partial<CanonicalEventData>): string | null {
  for (const [k, v] of Object.entries(expect)) {
    const g = got[k as keyof CanonicalEventData];
    const same = Array.isArray(v)
      ? Array.isArray(g) && g.length === v.length && v.every((x, i) => g[i] === x)
      : g === v;
    if (!same) return `${k}: expected ${JSON.stringify(v)}, found ${JSON.stringify(g)}`;
  }
  return validateCanonicalEvent(got);
}

/** Runs the self-check against `pools`; never throws (failures are reported as steps). */
export function runSelfCheck(pools: SchemaPools): SelfCheckResult {
  const steps: SelfCheckStep[] = [];
  for (const v of VECTORS) {
    const frame = pools.wsFrame.tryAcquire();
    const raw = pools.providerRaw.tryAcquire();
    const event = pools.canonicalEvent.tryAcquire();
    try {
      if (!frame || !raw || !event) {
        steps.push({
          name: v.name,
          ok: false,
          detail: "expected free pooled objects, found a pool exhausted",
        });
        continue;
      }
      frame.provider = "binance";
      frame.connId = 0;
      frame.frameSeq = 1;
      frame.recvTsMs = performance.timeOrigin + performance.now();
      frame.text = v.frame;
      decodeBinanceFrame(frame.text, raw);
      raw.recvTsMs = frame.recvTsMs;
      const skip = normalizeBinance(raw, event, SYMBOLS);
      const problem = skip ?? compare(event.clone(), v.expect);
      steps.push({ name: v.name, ok: problem === null, detail: problem ?? "fields as documented" });
    } catch (err) {
      steps.push({
        name: v.name,
        ok: false,
        detail: `${(err as Error).name}: ${(err as Error).message}`,
      });
    } finally {
      if (frame) pools.wsFrame.release(frame);
      if (raw) pools.providerRaw.release(raw);
      if (event) pools.canonicalEvent.release(event);
    }
  }
  const inFlight = pools.wsFrame.stats().inFlight + pools.providerRaw.stats().inFlight +
    pools.canonicalEvent.stats().inFlight;
  steps.push({
    name: "pools balanced after self-check",
    ok: inFlight === 0,
    detail: `${inFlight} objects in flight`,
  });
  return { ok: steps.every((s) => s.ok), steps };
}
