/**
 * `deno task bench`: runs every suite, prints its table and writes it to bench/results/.
 *
 * A suite is a module exporting `run(): Promise<BenchSuiteResult>`; ratios are always against a
 * baseline measured in the same run (machines here are shared and noisy).
 *
 * @module
 */

import type { BenchRow } from "./harness.ts";
import { renderTable } from "./harness.ts";

/** What a suite returns. */
export interface BenchSuiteResult {
  title: string;
  rows: BenchRow[];
  /** Lines printed under the table: targets met or missed, with numbers. */
  verdicts: string[];
}

const SUITES: Record<string, () => Promise<{ run(): Promise<BenchSuiteResult> }>> = {
  pool: () => import("./pool_bench.ts"),
  codec: () => import("./codec_bench.ts"),
  fanout: () => import("./fanout_bench.ts"),
};

async function main(): Promise<void> {
  const only = Deno.args.filter((a) => !a.startsWith("-"));
  const names = only.length > 0 ? only : Object.keys(SUITES);
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  for (const name of names) {
    const load = SUITES[name];
    if (!load) {
      throw new Error(`unknown bench suite "${name}", expected one of ${Object.keys(SUITES)}`);
    }
    const suite = await load();
    const result = await suite.run();
    const text = [
      `# ${result.title}`,
      "",
      `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${new Date().toISOString()}`,
      "",
      renderTable(result.rows),
      "",
      ...result.verdicts.map((v) => `- ${v}`),
      "",
    ].join("\n");
    console.log(text);
    await Deno.writeTextFile(new URL(`./results/${name}.md`, import.meta.url), text);
  }
}

if (import.meta.main) await main();
