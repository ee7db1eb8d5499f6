/**
 * The end-to-end benchmark (`deno task bench:e2e`, entry `bench/e2e_bench.ts`): scenarios run
 * in child processes (`sim_child.ts`, `blast_child.ts`, `pipeline_child.ts`), driven and joined
 * here.
 *
 * @module
 */

export { BenchChild, type ClockOffset, type SpawnOptions } from "./bench_child.ts";
export { type GcPause, parseGcTrace, pausesInWindow } from "./gc_trace.ts";
export { joinLatencies, type Percentiles, percentiles } from "./latency.ts";
export type { PipelineChildArgs, PipelineResult, PipelineSource } from "./pipeline_child.ts";
export {
  bytesPerEvent,
  E2E_TARGETS,
  eventsPerSecond,
  METHOD_NOTES,
  renderDetailsTable,
  renderMainTable,
  renderVerdicts,
  type ReportHeader,
} from "./report.ts";
export {
  childPermissions,
  providersOf,
  runScenario,
  type ScenarioContext,
  type ScenarioResult,
  type ScenarioSpec,
} from "./scenario.ts";
export type { BlastChildArgs } from "./blast_child.ts";
export type { SimChildArgs } from "./sim_child.ts";
export { BENCH_PROVIDERS, type BenchProvider, FrameKeys, NO_KEY } from "./frame_key.ts";
export { benchSymbolSpecs, E2E_SYMBOLS_DEFAULT } from "./symbol_specs.ts";
