/**
 * Markdown of the order round-trip benchmark: one latency table per journal (rows: rate ×
 * provider), the journal's cost as file / memory ratios, and the outcomes (refusals, rejects,
 * unanswered orders, sender lag) that qualify the numbers.
 *
 * @module
 */

import type { LatencySummary } from "./latency_set.ts";
import type { ByProvider, RateResult } from "./order_flow.ts";

/** One gateway's runs. */
export interface JournalRuns {
  /** `memory` (`--data-dir :memory:`) or `file` (a WAL database in a temp directory). */
  journal: "memory" | "file";
  /** `--pool-capacity OrderRequest=<n>` given to this gateway; null for its default. */
  orderPool: number | null;
  /** `--data-dir` given to the gateway. */
  dataDir: string;
  /** Where the simulators ran: their own process, or inside the gateway. */
  sims: "external" | "embedded";
  /** Gateway CPU with market data only (no orders), % of one core. */
  idleCpuPercent: number;
  /** Simulator process CPU with market data only, % of one core; null when embedded. */
  idleSimCpuPercent: number | null;
  /** Market data messages per second the consumer received with no orders. */
  idleMarketPerSecond: number;
  runs: RateResult[];
  /** Size of the database files after the runs (file journal), bytes; null for memory. */
  databaseBytes: number | null;
  /** Orders submitted to this gateway in all (probe and warm-up included). */
  ordersTotal: number;
  /** `switchyard_orders_total{event}` at the end. */
  orderCounters: Record<string, number>;
  /** Warning-or-worse gateway log entries, counted by `level logger: message`. */
  problems: Record<string, number>;
}

/** The providers' display order. */
const PROVIDERS_ORDER = ["binance", "okx", "kraken", "all"];

function ms(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function triple(s: LatencySummary | null | undefined): string {
  return s == null ? "-" : `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.p999)}`;
}

function count(s: LatencySummary | null | undefined): number {
  return s?.count ?? 0;
}

/**
 * Gateway CPU per completed order above its idle (market-data-only) level, µs: the extra CPU
 * divided by the final reports per second (refused orders cost a little and are not counted).
 */
export function cpuUsPerOrder(run: RateResult, idleCpuPercent: number): number {
  const extraCoreShare = Math.max(0, run.gatewayCpuPercent - idleCpuPercent) / 100;
  return run.finalsPerSecond > 0 ? (extraCoreShare * 1e6) / run.finalsPerSecond : 0;
}

/** Simulator process CPU per completed order above its idle level, µs; null when embedded. */
export function simCpuUsPerOrder(run: RateResult, idleSimCpuPercent: number | null): number | null {
  if (run.simCpuPercent === null || idleSimCpuPercent === null) return null;
  const extraCoreShare = Math.max(0, run.simCpuPercent - idleSimCpuPercent) / 100;
  return run.finalsPerSecond > 0 ? (extraCoreShare * 1e6) / run.finalsPerSecond : 0;
}

/**
 * CPU per completed order of each process, per journal and rate: the gateway's and (when they
 * run apart) the simulators', each above its own idle level.
 */
export function renderCpuPerOrder(journals: readonly JournalRuns[]): string {
  const lines = [
    "| gateway | rate | orders/s final | gateway CPU % (idle) | gateway µs / order | simulators CPU % (idle) | simulators µs / order | trader CPU % |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const j of journals) {
    const name = `${j.journal}${j.orderPool === null ? "" : ` (OrderRequest=${j.orderPool})`}`;
    for (const r of j.runs) {
      const sim = simCpuUsPerOrder(r, j.idleSimCpuPercent);
      lines.push(
        `| ${name} | ${r.label} | ${r.finalsPerSecond.toFixed(0)} | ${
          r.gatewayCpuPercent.toFixed(0)
        } (${j.idleCpuPercent.toFixed(0)}) | ${cpuUsPerOrder(r, j.idleCpuPercent).toFixed(0)} | ${
          r.simCpuPercent === null || j.idleSimCpuPercent === null
            ? "embedded"
            : `${r.simCpuPercent.toFixed(0)} (${j.idleSimCpuPercent.toFixed(0)})`
        } | ${sim === null ? "-" : sim.toFixed(0)} | ${r.traderCpuPercent.toFixed(0)} |`,
      );
    }
  }
  return lines.join("\n");
}

/** The latency table of one journal: a row per rate × provider. */
export function renderLatencyTable(runs: JournalRuns): string {
  const lines = [
    "| rate | provider | orders/s sent / accepted / final | submit → ack (ms) | submit → ACK, resting (ms) | submit → FILLED, IOC (ms) | cancel → CANCELLED (ms) | samples ack / ACK / FILLED |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const run of runs.runs) {
    for (const p of PROVIDERS_ORDER) {
      if (!(p in run.commandAck)) continue;
      const sent = p === "all"
        ? `${run.sentPerSecond.toFixed(0)} / ${run.acceptedPerSecond.toFixed(0)} / ${
          run.finalsPerSecond.toFixed(0)
        }`
        : "";
      const label = p === "all" ? `**${p}**` : p;
      lines.push(
        `| ${p === PROVIDERS_ORDER[0] ? run.label : ""} | ${label} | ${sent} | ${
          triple(run.commandAck[p])
        } | ${triple(run.restingAck[p])} | ${triple(run.marketableFilled[p])} | ${
          triple(run.cancelled[p])
        } | ${count(run.commandAck[p])} / ${count(run.restingAck[p])} / ${
          count(run.marketableFilled[p])
        } |`,
      );
    }
  }
  return lines.join("\n");
}

function ratio(file: number | undefined, memory: number | undefined): string {
  if (file === undefined || memory === undefined || memory <= 0) return "-";
  return `${(file / memory).toFixed(2)}x`;
}

function pair(
  metric: string,
  file: ByProvider,
  memory: ByProvider,
): string {
  const f = file.all;
  const m = memory.all;
  return `| ${metric} | ${m == null ? "-" : `${ms(m.p50)} / ${ms(m.p99)}`} | ${
    f == null ? "-" : `${ms(f.p50)} / ${ms(f.p99)}`
  } | ${ratio(f?.p50, m?.p50)} | ${ratio(f?.p99, m?.p99)} |`;
}

/** File journal against the in-memory baseline, per rate, all providers. */
export function renderJournalCost(memory: JournalRuns, file: JournalRuns): string {
  const lines: string[] = [];
  for (const fileRun of file.runs) {
    const memoryRun = memory.runs.find((r) => r.ratePerSecond === fileRun.ratePerSecond);
    if (memoryRun === undefined) continue;
    const cpuMemory = cpuUsPerOrder(memoryRun, memory.idleCpuPercent);
    const cpuFile = cpuUsPerOrder(fileRun, file.idleCpuPercent);
    lines.push(
      `**${fileRun.label}**`,
      "",
      "| all providers | memory p50 / p99 (ms) | file p50 / p99 (ms) | p50 file / memory | p99 file / memory |",
      "| --- | ---: | ---: | ---: | ---: |",
      pair("submit → ack", fileRun.commandAck, memoryRun.commandAck),
      pair("submit → ACK (resting)", fileRun.restingAck, memoryRun.restingAck),
      pair("submit → FILLED (IOC)", fileRun.marketableFilled, memoryRun.marketableFilled),
      pair("cancel → CANCELLED", fileRun.cancelled, memoryRun.cancelled),
      `| gateway CPU per completed order above idle (µs) | ${cpuMemory.toFixed(0)} | ${
        cpuFile.toFixed(0)
      } | ${ratio(cpuFile, cpuMemory)} | |`,
      "",
    );
  }
  return lines.join("\n");
}

function entries(record: Record<string, number>): string {
  const list = Object.entries(record);
  return list.length === 0 ? "none" : list.map(([k, v]) => `${k}: ${v}`).join(", ");
}

function samples(record: Record<string, string>): string {
  const list = Object.entries(record);
  return list.length === 0 ? "" : ` (${list.map(([k, v]) => `${k}: "${v}"`).join("; ")})`;
}

/** One line per run: what qualifies its numbers. */
export function renderOutcomes(runs: JournalRuns): string[] {
  return runs.runs.map((r) =>
    `${runs.journal}${
      runs.orderPool === null ? "" : ` (OrderRequest=${runs.orderPool})`
    } ${r.label}: sent ${r.sent} in ${r.measureS} s (${
      r.sentPerSecond.toFixed(0)
    }/s), final answer for ${r.completed}; unanswered after drain ${r.unanswered}; refused ${
      entries(r.refused)
    }${samples(r.refusedSamples)}; cancel refused ${entries(r.cancelRefused)}; REJECTED ${
      entries(r.rejected)
    }; IOC not filled in full ${r.marketableNotFilled}; resting orders that traded ${r.restingTraded}; exec reports ${r.execReports} (seq gaps ${r.execSeqGaps}); sender lag max ${
      ms(r.scheduleSlipMaxMs)
    } ms; market data ${r.marketPerSecond.toFixed(0)} msg/s; gateway CPU ${
      r.gatewayCpuPercent.toFixed(0)
    } % (idle ${runs.idleCpuPercent.toFixed(0)} %)`
  );
}
