/**
 * `deno task bench:orders`: the order round trip, measured from a remote consumer. The gateway
 * (`main.ts`) runs as a child process, pointed at the Binance, OKX and Kraken simulators in a
 * second child process (`src/gateway/sim_cli.ts`; `--sims embedded` runs them inside the
 * gateway as `deno task start` does), so the gateway's CPU per order is measured apart from the
 * simulators' (matching engines, signature checks, their JSON); this process is the trader: one WebSocket, subscribed to market data of several symbols on every
 * provider while the simulators generate `--sim-rate` events/s each, sending orders at fixed
 * rates. Each order is timed on this process's clock, so the real network path (loopback TCP,
 * WebSocket framing, JSON both ways) is inside every number:
 *
 * - submit → `ack` (the gateway validated and journaled the order);
 * - submit → `exec_report` `ACK` for resting limit orders far from the market (then cancelled:
 *   cancel → `CANCELLED` is timed too);
 * - submit → `exec_report` `FILLED` for marketable IOC limits priced through the opposite best.
 *
 * The whole set runs twice, on a gateway journaling to `:memory:` (baseline) and to a WAL file
 * database in a temp directory (production setting); their ratio is the journal's cost.
 * Writes `bench/results/orders.md` and `bench/results/orders.json`.
 *
 * Flags (defaults keep the run near 2.5 minutes):
 *   --rates=100,1000      orders per second (half resting + cancel, half IOC)
 *   --warm-s=2 --measure-s=20 --drain-s=5   per rate
 *   --idle-s=3            market data only, for the gateway's idle CPU
 *   --sim-rate=2000       market events per second of each simulator
 *   --sims=external       simulators in their own process (external) or inside the gateway
 *                         (embedded)
 *   --cpu-prof=<dir>      run the gateway with V8's `--cpu-prof` writing `.cpuprofile` files
 *                         to <dir> (profiling overhead inflates every number)
 *   --journals=memory,file
 *   --order-pool=<n>      gateway `--pool-capacity OrderRequest=<n>` (default: the gateway's)
 *   --raised-pool=1024 --raised-pool-rates=1000   then one more file-journal gateway with that
 *                         request pool at those rates (0: skip), to separate the pool's cap from
 *                         the CPU's
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  cpuUsPerOrder,
  GatewayProcess,
  type JournalRuns,
  OrderFlow,
  renderCpuPerOrder,
  renderJournalCost,
  renderLatencyTable,
  renderOutcomes,
  simCpuUsPerOrder,
  SimProcess,
} from "./orders/mod.ts";

const PROVIDERS = ["binance", "okx", "kraken"];
/** Order symbols: four USDT books of different price scales. */
const ORDER_SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"];
/** Market data the trader also takes: six symbols × trades and book updates, on every provider. */
const MARKET_SYMBOLS = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "BNB-USDT", "DOGE-USDT"];
const MARKET_KINDS = ["trade", "book_update"];
const TRADER_ID = "bench-trader";
/** Resting orders sit 10 % behind the best price: no simulated trade reaches them in a run. */
const RESTING_AWAY_BPS = 1000;
/** IOC orders reach 0.5 % through the opposite best price, absorbing the book poll's staleness. */
const CROSS_BPS = 50;
/** Each order is worth about 20 USDT (minimum notional 5). */
const NOTIONAL_QUOTE = "20";

interface Options {
  rates: number[];
  warmS: number;
  measureS: number;
  drainS: number;
  idleS: number;
  simRate: number;
  sims: "external" | "embedded";
  /** Directory for the gateway's V8 CPU profiles; null: no profiling. */
  cpuProfDir: string | null;
  journals: ("memory" | "file")[];
  /** `--pool-capacity OrderRequest=<n>` for the gateway; null keeps its default. */
  orderPool: number | null;
  /** A last file-journal gateway with this request pool, at `raisedPoolRates`; 0: none. */
  raisedPool: number;
  raisedPoolRates: number[];
}

function positive(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`--${what}: expected a positive number, found "${text}"`);
  }
  return value;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: "string", default: "100,1000" },
      "warm-s": { type: "string", default: "2" },
      "measure-s": { type: "string", default: "20" },
      "drain-s": { type: "string", default: "5" },
      "idle-s": { type: "string", default: "3" },
      "sim-rate": { type: "string", default: "2000" },
      sims: { type: "string", default: "external" },
      "cpu-prof": { type: "string" },
      journals: { type: "string", default: "memory,file" },
      "order-pool": { type: "string" },
      "raised-pool": { type: "string", default: "1024" },
      "raised-pool-rates": { type: "string", default: "1000" },
    },
    strict: true,
  });
  const journals = values.journals.split(",").map((j) => j.trim());
  for (const j of journals) {
    if (j !== "memory" && j !== "file") {
      throw new RangeError(`--journals: expected memory and/or file, found "${j}"`);
    }
  }
  if (values.sims !== "external" && values.sims !== "embedded") {
    throw new RangeError(`--sims: expected external or embedded, found "${values.sims}"`);
  }
  return {
    sims: values.sims,
    cpuProfDir: values["cpu-prof"] ?? null,
    rates: values.rates.split(",").map((r) => Math.round(positive(r.trim(), "rates"))),
    warmS: positive(values["warm-s"], "warm-s"),
    measureS: positive(values["measure-s"], "measure-s"),
    drainS: positive(values["drain-s"], "drain-s"),
    idleS: positive(values["idle-s"], "idle-s"),
    simRate: Math.round(positive(values["sim-rate"], "sim-rate")),
    journals: journals as ("memory" | "file")[],
    orderPool: values["order-pool"] === undefined
      ? null
      : Math.round(positive(values["order-pool"], "order-pool")),
    raisedPool: Math.round(Number(values["raised-pool"])),
    raisedPoolRates: values["raised-pool-rates"].split(",").map((r) =>
      Math.round(positive(r.trim(), "raised-pool-rates"))
    ),
  };
}

function randomToken(): string {
  return crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function rateLabel(rate: number): string {
  return `${rate}/s`;
}

/** `switchyard_orders_total{event="..."} n` lines of `/metrics`. */
async function orderCounters(gw: GatewayProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${gw.baseUrl}/metrics`)).text();
  const counters: Record<string, number> = {};
  for (const m of text.matchAll(/^switchyard_orders_total\{event="([a-z_]+)"\} ([0-9.e+]+)$/gm)) {
    counters[m[1]] = Number(m[2]);
  }
  return counters;
}

async function databaseBytes(dir: string): Promise<number> {
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  return bytes;
}

/** Orders the readiness probe sends per provider before the timed runs. */
const PROBE_RATE_PER_SECOND = 30;

/** One gateway to run: its journal, request pool and rates. */
interface Setup {
  journal: "memory" | "file";
  orderPool: number | null;
  rates: number[];
}

async function runJournal(
  setup: Setup,
  o: Options,
  projectRoot: string,
): Promise<JournalRuns> {
  const journal = setup.journal;
  const tmpDir = journal === "file"
    ? await Deno.makeTempDir({ dir: "/tmp", prefix: "switchyard-orders-bench-" })
    : null;
  const dataDir = tmpDir ?? ":memory:";
  const traderToken = randomToken();
  const booksRequired = PROVIDERS.flatMap((p) =>
    [...new Set([...ORDER_SYMBOLS, ...MARKET_SYMBOLS])].map((s) => `${p}:${s}`)
  );
  const sims = o.sims === "external"
    ? await SimProcess.start({
      cwd: projectRoot,
      providers: PROVIDERS,
      eventsPerSecond: o.simRate,
      startTimeoutMs: 60_000,
    })
    : null;
  let gw: GatewayProcess;
  try {
    gw = await GatewayProcess.start({
      cwd: projectRoot,
      dataDir,
      simRate: o.simRate,
      endpointArgs: sims?.endpointArgs,
      denoArgs: o.cpuProfDir === null
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${o.cpuProfDir}`, `--allow-write=${o.cpuProfDir}`],
      traderId: TRADER_ID,
      traderToken,
      adminToken: randomToken(),
      booksRequired,
      startTimeoutMs: 60_000,
      orderRequestCapacity: setup.orderPool ?? undefined,
    });
  } catch (err) {
    await sims?.stop();
    throw err;
  }
  let flow: OrderFlow | null = null;
  try {
    flow = await OrderFlow.connect({
      gateway: gw,
      traderId: TRADER_ID,
      traderToken,
      providers: PROVIDERS,
      orderSymbols: ORDER_SYMBOLS,
      marketSymbols: MARKET_SYMBOLS,
      marketKinds: MARKET_KINDS,
      restingAwayBps: RESTING_AWAY_BPS,
      crossBps: CROSS_BPS,
      notionalQuote: NOTIONAL_QUOTE,
      bookPollMs: 250,
      simCpuMs: sims === null ? undefined : () => sims.cpuMs(),
    });
    let ordersTotal = 0;
    const tag = `${journal[0]}${setup.orderPool ?? ""}`;
    // The venues log in after the gateway is ready: probe until every order is answered.
    for (let attempt = 1;; attempt++) {
      const probe = await flow.run({
        label: "probe",
        idPrefix: `${tag}p${attempt}-`,
        ratePerSecond: PROBE_RATE_PER_SECOND,
        warmMs: 500,
        measureMs: 500,
        drainMs: 5000,
      });
      ordersTotal += PROBE_RATE_PER_SECOND;
      const clean = Object.keys(probe.refused).length === 0 && probe.unanswered === 0 &&
        Object.keys(probe.rejected).length === 0;
      if (clean) break;
      if (attempt >= 10) {
        throw new Error(`expected the probe orders answered, found ${JSON.stringify(probe)}`);
      }
      await sleep(1000);
    }
    const market0 = flow.marketMessages;
    const [cpu0, simCpu0] = await Promise.all([gw.cpuMs(), sims?.cpuMs() ?? 0]);
    await sleep(o.idleS * 1000);
    const [cpu1, simCpu1] = await Promise.all([gw.cpuMs(), sims?.cpuMs() ?? 0]);
    const idleCpuPercent = (cpu1 - cpu0) / (o.idleS * 10);
    const idleSimCpuPercent = sims === null ? null : (simCpu1 - simCpu0) / (o.idleS * 10);
    const idleMarketPerSecond = (flow.marketMessages - market0) / o.idleS;
    const runs = [];
    for (const rate of setup.rates) {
      const run = await flow.run({
        label: rateLabel(rate),
        idPrefix: `${tag}r${rate}-`,
        ratePerSecond: rate,
        warmMs: o.warmS * 1000,
        measureMs: o.measureS * 1000,
        drainMs: o.drainS * 1000,
      });
      ordersTotal += Math.round(rate * (o.warmS + o.measureS));
      const all = run.commandAck.all;
      console.error(
        `  ${journal} ${run.label}: ${run.sentPerSecond.toFixed(0)} orders/s (${
          run.finalsPerSecond.toFixed(0)
        } final/s), ack p99 ${all?.p99.toFixed(2) ?? "-"} ms, ACK p99 ${
          run.restingAck.all?.p99.toFixed(2) ?? "-"
        } ms, FILLED p99 ${
          run.marketableFilled.all?.p99.toFixed(2) ?? "-"
        } ms, unanswered ${run.unanswered}, gateway CPU ${run.gatewayCpuPercent.toFixed(0)} % (${
          cpuUsPerOrder(run, idleCpuPercent).toFixed(0)
        } µs/order)${
          run.simCpuPercent === null || idleSimCpuPercent === null
            ? ""
            : `, simulators CPU ${run.simCpuPercent.toFixed(0)} % (${
              simCpuUsPerOrder(run, idleSimCpuPercent)?.toFixed(0)
            } µs/order)`
        }, trader CPU ${run.traderCpuPercent.toFixed(0)} %`,
      );
      runs.push(run);
    }
    const counters = await orderCounters(gw);
    await flow.close();
    flow = null;
    await gw.stop();
    await sims?.stop();
    return {
      journal,
      sims: o.sims,
      idleSimCpuPercent,
      orderPool: setup.orderPool,
      dataDir: journal === "file" ? "/tmp/switchyard-orders-bench-*" : ":memory:",
      idleCpuPercent,
      idleMarketPerSecond,
      runs,
      databaseBytes: tmpDir === null ? null : await databaseBytes(tmpDir),
      ordersTotal,
      orderCounters: counters,
      problems: Object.fromEntries(gw.problems),
    };
  } finally {
    await flow?.close();
    await gw.stop();
    await sims?.stop();
    if (tmpDir !== null) await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
}

function render(saved: SavedRun): string {
  const byJournal = new Map(
    saved.journals.filter((j) => j.orderPool === saved.options.orderPool).map((
      j,
    ) => [j.journal, j]),
  );
  const raised = saved.journals.filter((j) => j.orderPool !== saved.options.orderPool);
  const file = byJournal.get("file");
  const memory = byJournal.get("memory");
  const sections: string[] = [
    "# Order round trip: consumer -> gateway -> simulated exchange -> exec report -> consumer",
    "",
    `Deno ${saved.deno}, ${saved.date}, ${saved.cores} cores, load average ${saved.loadAverage.start} before and ${saved.loadAverage.end} after (shared host). Command: \`${saved.command}\`. Whole run ${
      saved.elapsedS.toFixed(0)
    } s.`,
    "",
    (saved.options.sims === "external"
      ? "Setup: the gateway (`main.ts`) in a child process, pointed with `--endpoint` at the Binance, OKX and Kraken simulators (`src/gateway/sim_cli.ts`, " +
        `${saved.options.simRate} market events/s each) in a second child process (one fresh simulator process per gateway), so the gateway's CPU is measured apart from the simulators'; this process is a remote trader on `
      : "Setup: the gateway (`main.ts`, embedded Binance, OKX and Kraken simulators at " +
        `${saved.options.simRate} market events/s each) in a child process; this process is a remote trader on `) +
    "one WebSocket (loopback TCP), also subscribed to trades and book updates of " +
    `${MARKET_SYMBOLS.length} symbols on all 3 providers. Orders rotate over the 3 providers x ${ORDER_SYMBOLS.length} symbols (${
      ORDER_SYMBOLS.join(", ")
    }) x buy/sell; half are resting GTC limits ${
      RESTING_AWAY_BPS / 100
    } % behind the best price (cancelled as soon as their ACK arrives), half IOC limits ${
      CROSS_BPS / 100
    } % through the opposite best price, about ${NOTIONAL_QUOTE} USDT each, priced on each instrument's tick and step. ` +
    "Open loop: each order leaves at its scheduled time whatever the answers do. " +
    `Gateway order-request pool: ${
      saved.options.orderPool === null
        ? "its default capacity (`OrderRequest` 256 in flight; a submit or cancel finding it full is refused `busy`)"
        : `\`--pool-capacity OrderRequest=${saved.options.orderPool}\``
    }. ` +
    `Per rate: ${saved.options.warmS} s warm-up (not recorded) + ${saved.options.measureS} s window. ` +
    "Latencies in ms as p50 / p99 / p99.9 (HdrHistogram, 3 significant digits), all on this process's clock: " +
    "**ack** = `order_submit` sent -> its `ack` (validated and journaled); **ACK** = -> `exec_report` `ACK` of a resting order; " +
    "**FILLED** = -> `exec_report` `FILLED` of an IOC order; **cancel** = `order_cancel` sent -> `CANCELLED`.",
    "",
  ];
  const journalTitle = {
    file: "File journal (WAL database in /tmp: the production setting)",
    memory: "In-memory journal (`--data-dir :memory:`: baseline)",
  };
  for (const j of [file, memory]) {
    if (j === undefined) continue;
    sections.push(`## ${journalTitle[j.journal]}`, "", renderLatencyTable(j), "");
  }
  for (const j of raised) {
    sections.push(
      `## File journal with \`--pool-capacity OrderRequest=${j.orderPool}\``,
      "",
      "The same gateway with its order-request pool raised, so that nothing is refused for a full pool: what the CPU allows.",
      "",
      renderLatencyTable(j),
      "",
    );
  }
  sections.push(
    "## CPU per completed order",
    "",
    "CPU of each process during the window above its own idle level (market data only, measured before the runs), divided by final reports per second. " +
      (saved.options.sims === "external"
        ? "The simulators run in their own process: the gateway column is the gateway's own cost; the simulators' column is the simulated exchanges' (matching, signature checks, their JSON), which a real deployment does not carry."
        : "The simulators run inside the gateway: its column includes them."),
    "",
    renderCpuPerOrder(saved.journals),
    "",
  );
  if (file !== undefined && memory !== undefined) {
    sections.push(
      "## Journal cost (file / memory, same run)",
      "",
      "Each journal got its own gateway process, one after the other, same flags and load. CPU per completed order = gateway CPU above its idle level (market data only) divided by final reports per second. The runs are sequential on a shared host, so the latency ratios carry the host's noise (compare the load averages above); the CPU per completed order is the steadier measure of the journal's cost. At 1000/s the two gateways completed different numbers of orders (the request pool refuses the rest), so compare latencies at 100/s.",
      "",
      renderJournalCost(memory, file),
    );
  }
  sections.push("## Outcomes", "");
  for (const j of saved.journals) {
    sections.push(...renderOutcomes(j).map((l) => `- ${l}`));
    const db = j.databaseBytes === null
      ? ""
      : `; database ${
        (j.databaseBytes / 1024 / 1024).toFixed(1)
      } MiB for ${j.ordersTotal} orders (${
        (j.databaseBytes / Math.max(1, j.ordersTotal)).toFixed(0)
      } B/order)`;
    sections.push(
      `- ${j.journal}${
        j.orderPool === null ? "" : ` (OrderRequest=${j.orderPool})`
      }: idle (market data only) gateway CPU ${
        j.idleCpuPercent.toFixed(0)
      } %, market data to the trader ${
        j.idleMarketPerSecond.toFixed(0)
      } msg/s${db}; order counters ${JSON.stringify(j.orderCounters)}; gateway warnings/errors ${
        Object.keys(j.problems).length === 0 ? "none" : JSON.stringify(j.problems)
      }`,
    );
  }
  sections.push("");
  return sections.join("\n");
}

/** What `orders.json` holds. */
interface SavedRun {
  deno: string;
  date: string;
  cores: number;
  command: string;
  elapsedS: number;
  options: Options;
  /** `/proc/loadavg` before and after (the host is shared: other work shows up here). */
  loadAverage: { start: string; end: string };
  journals: JournalRuns[];
}

/** The first three fields of `/proc/loadavg` (via `cat`: Deno wants --allow-all for /proc). */
async function loadAverage(): Promise<string> {
  try {
    const out = await new Deno.Command("cat", { args: ["/proc/loadavg"], stdout: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const o = parseOptions(Deno.args);
  const startMs = performance.now();
  const projectRoot = new URL("../", import.meta.url).pathname;
  const setups: Setup[] = o.journals.map((journal) => ({
    journal,
    orderPool: o.orderPool,
    rates: o.rates,
  }));
  if (o.raisedPool > 0) {
    setups.push({ journal: "file", orderPool: o.raisedPool, rates: o.raisedPoolRates });
  }
  const loadStart = await loadAverage();
  const journals: JournalRuns[] = [];
  for (const setup of setups) {
    console.error(
      `gateway with ${setup.journal} journal, OrderRequest pool ${
        setup.orderPool ?? "default"
      } ...`,
    );
    journals.push(await runJournal(setup, o, projectRoot));
  }
  const loadEnd = await loadAverage();
  const saved: SavedRun = {
    deno: Deno.version.deno,
    date: new Date().toISOString(),
    cores: navigator.hardwareConcurrency,
    command: ["deno task bench:orders", ...Deno.args].join(" "),
    elapsedS: (performance.now() - startMs) / 1000,
    options: o,
    loadAverage: { start: loadStart, end: loadEnd },
    journals,
  };
  const text = render(saved);
  console.log(text);
  const resultsDir = new URL("./results/", import.meta.url);
  await Deno.mkdir(resultsDir, { recursive: true });
  await Deno.writeTextFile(new URL("./orders.md", resultsDir), text);
  await Deno.writeTextFile(
    new URL("./orders.json", resultsDir),
    JSON.stringify(saved, null, 1) + "\n",
  );
}

if (import.meta.main) await main();
