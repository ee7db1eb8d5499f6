/**
 * Latency arithmetic of the end-to-end benchmark: joining the simulator's send log with the
 * consumers' delivery records by event key, and percentiles (exact, from sorted samples).
 *
 * @module
 */

import { NO_KEY } from "./frame_key.ts";

/** Percentiles of a sample, ms. */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles of `values` (sorted in place); null for an empty sample. */
export function percentiles(values: Float64Array): Percentiles | null {
  const n = values.length;
  if (n === 0) return null;
  values.sort();
  const at = (q: number): number => values[Math.min(n - 1, Math.floor(q * n))];
  return { count: n, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: values[n - 1] };
}

/** The three latencies of every matched delivery, ms. */
export interface JoinedLatencies {
  /** Simulator `send()` to consumer delivery. */
  endToEnd: Float64Array;
  /** The key of each `endToEnd` sample. */
  endToEndKeys: Float64Array;
  /** Simulator `send()` to the adapter's receive stamp (`recvTsMs`). */
  wire: Float64Array;
  /** Receive stamp to consumer delivery, for every delivery with a stamp (keyed or not). */
  inProcess: Float64Array;
  /** Deliveries with a key (trades, bookTicker, diff depth). */
  keyed: number;
  /** Keyed deliveries whose send time was found. */
  matched: number;
}

/**
 * Joins `sends` (`[key, send ms]` pairs, source clock) with `deliveries` (`[key, delivery ms,
 * recvTsMs]` triples, pipeline clock). `pipelineMinusSourceMs` is the measured offset between the
 * two clocks and is subtracted from every cross-process difference.
 */
export function joinLatencies(
  sends: Float64Array,
  deliveries: Float64Array,
  pipelineMinusSourceMs: number,
): JoinedLatencies {
  const sentAt = new Map<number, number>();
  for (let i = 0; i + 1 < sends.length; i += 2) sentAt.set(sends[i], sends[i + 1]);
  const count = Math.floor(deliveries.length / 3);
  const endToEnd = new Float64Array(count);
  const endToEndKeys = new Float64Array(count);
  const wire = new Float64Array(count);
  const inProcess = new Float64Array(count);
  let stamped = 0;
  let keyed = 0;
  let matched = 0;
  for (let r = 0; r < count; r++) {
    const key = deliveries[r * 3];
    const deliveredMs = deliveries[r * 3 + 1];
    const recvMs = deliveries[r * 3 + 2];
    if (!(recvMs > 0)) continue; // no receive stamp: nothing to measure from
    inProcess[stamped++] = deliveredMs - recvMs;
    if (key === NO_KEY) continue;
    keyed++;
    const sentMs = sentAt.get(key);
    if (sentMs === undefined) continue;
    endToEnd[matched] = deliveredMs - sentMs - pipelineMinusSourceMs;
    endToEndKeys[matched] = key;
    wire[matched] = recvMs - sentMs - pipelineMinusSourceMs;
    matched++;
  }
  return {
    endToEnd: endToEnd.subarray(0, matched),
    endToEndKeys: endToEndKeys.subarray(0, matched),
    wire: wire.subarray(0, matched),
    inProcess: inProcess.subarray(0, stamped),
    keyed,
    matched,
  };
}
