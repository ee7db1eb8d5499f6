/**
 * Tiny measurement harness shared by the bench suites: time per operation and V8 heap bytes
 * allocated per operation (`node:v8` `getHeapStatistics().total_allocated_bytes`, exact but
 * coarse, so every measurement runs enough iterations to drown its ~72 KB read cost).
 *
 * @module
 */

import { getHeapStatistics } from "node:v8";

/** One measured row. */
export interface BenchRow {
  group: string;
  name: string;
  /** Operations timed. */
  ops: number;
  /** Median over rounds of nanoseconds per operation. */
  nsPerOp: number;
  /** Median over rounds of heap bytes allocated per operation. */
  bytesPerOp: number;
  /** Free-form note (engine name, ratio vs baseline, ...). */
  note?: string;
}

/** Options of {@linkcode measure}. */
export interface MeasureOptions {
  /** Operations per round; choose so a round lasts tens of ms. */
  opsPerRound: number;
  /** Timed rounds (median reported). Default 7. */
  rounds?: number;
  /** Untimed warm-up rounds so the JIT settles. Default 3. */
  warmupRounds?: number;
}

function allocated(): number {
  // V8 reports total_allocated_bytes; @types/node's HeapInfo does not declare it.
  return (getHeapStatistics() as unknown as { total_allocated_bytes: number })
    .total_allocated_bytes;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Runs `round(opsPerRound)` repeatedly; `round` must perform exactly `opsPerRound` operations.
 * Returns the median ns/op and bytes/op over the timed rounds.
 */
export function measure(
  group: string,
  name: string,
  round: (ops: number) => void,
  opts: MeasureOptions,
): BenchRow {
  const rounds = opts.rounds ?? 7;
  const warmup = opts.warmupRounds ?? 3;
  for (let i = 0; i < warmup; i++) round(opts.opsPerRound);
  const ns: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const b0 = allocated();
    const t0 = performance.now();
    round(opts.opsPerRound);
    const t1 = performance.now();
    const b1 = allocated();
    ns.push(((t1 - t0) * 1e6) / opts.opsPerRound);
    bytes.push(Math.max(0, b1 - b0) / opts.opsPerRound);
  }
  return {
    group,
    name,
    ops: opts.opsPerRound * rounds,
    nsPerOp: median(ns),
    bytesPerOp: median(bytes),
  };
}

/** Renders rows as a Markdown table. */
export function renderTable(rows: readonly BenchRow[]): string {
  const lines = [
    "| group | case | ns/op | bytes/op | note |",
    "|---|---|---:|---:|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.group} | ${r.name} | ${r.nsPerOp.toFixed(1)} | ${r.bytesPerOp.toFixed(1)} | ${
        r.note ?? ""
      } |`,
    );
  }
  return lines.join("\n");
}

/** Ratio helper for notes: how many times faster `row` is than `baseline` (ns/op). */
export function speedup(row: BenchRow, baseline: BenchRow): number {
  return baseline.nsPerOp / row.nsPerOp;
}

/** Fraction of bytes saved by `row` against `baseline` (0.4 = 40 % fewer bytes). */
export function bytesSaved(row: BenchRow, baseline: BenchRow): number {
  if (baseline.bytesPerOp === 0) return 0;
  return 1 - row.bytesPerOp / baseline.bytesPerOp;
}
