/**
 * kill -9 of the gateway process in the middle of an order flow, then a restart on the same
 * data directory: no order reaches an exchange twice, no execution report is missing or
 * repeated, and fills that happened at the exchanges while the gateway was dead are reported
 * after the restart, exactly once.
 *
 * Three processes: the simulators of Binance, OKX and Kraken (`src/gateway/sim_cli.ts`, kept
 * alive throughout, so the exchanges' state survives the gateway), the gateway (`main.ts`,
 * SIGKILLed and started again), and this test as the trading consumer over `/v1/stream`. The
 * simulators' admin HTTP (`/_sim/orders/fill`, `/_sim/orders/stats`) fills resting orders and
 * counts place requests per venue client id; the final state of every order at the exchange is
 * read with the exchange's own signed order query (each provider's `OrderVenue`, in this
 * process, on the simulators' fake credentials).
 *
 * Run alone: `deno test -A tests/e2e/gateway_kill9_test.ts`.
 */

import assert from "node:assert/strict";
import { provider as binanceProvider } from "../../src/adapter/binance/provider.ts";
import { provider as krakenProvider } from "../../src/adapter/kraken/provider.ts";
import { provider as okxProvider } from "../../src/adapter/okx/provider.ts";
import type { ProviderModule } from "../../src/adapter/shared/provider_module.ts";
import {
  addDecimal,
  compareDecimal,
  type ExactDecimal,
  execStateOf,
  type IntentState,
  intentStateRank,
  type OrderVenue,
  parseDecimal,
  REASON_NOT_SENT_BEFORE_RESTART,
  REASON_TIMEOUT_NOT_FOUND,
  type VenueOrderStatus,
} from "../../src/orders/mod.ts";
import { componentLogger, setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";

const SIM_CLI = new URL("../../src/gateway/sim_cli.ts", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

const PROVIDERS = ["binance", "okx", "kraken"] as const;
type Provider = typeof PROVIDERS[number];
const MODULES: Record<Provider, ProviderModule> = {
  binance: binanceProvider,
  okx: okxProvider,
  kraken: krakenProvider,
};

const CONSUMER = "strat-k";
const TRADER_TOKEN = "kill9-trader-token-7f3a9c1e";
const ADMIN_TOKEN = "kill9-admin-token-b62d04f8";

/** Orders sent before the kill (steady flow), then a burst sent right before SIGKILL. */
const FLOW_ORDERS_BEFORE_KILL = 150;
const BURST_ORDERS_AT_KILL = 12;
/** New orders after the restart (the flow goes on). */
const FLOW_ORDERS_AFTER_RESTART = 30;
/** Resting orders the fill knob fills while no gateway process exists, per provider. */
const DEAD_FILLS_PER_PROVIDER = 5;
/** Already acknowledged client ids re-submitted after the restart (besides every unacked one). */
const ACKED_RESUBMITS = 24;

const PROCESS_START_TIMEOUT_MS = 30_000;
const ACK_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 25_000;
const VENUE_REQUEST_TIMEOUT_MS = 5_000;

type Msg = Record<string, unknown>;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns an empty list of problems; throws with the last ones. */
async function settle(
  what: string,
  probe: () => Promise<string[]> | string[],
  opts: { timeoutMs: number; pollMs: number },
): Promise<void> {
  const start = performance.now();
  for (;;) {
    const problems = await probe();
    if (problems.length === 0) return;
    if (performance.now() - start > opts.timeoutMs) {
      throw new Error(
        `expected ${what} within ${opts.timeoutMs} ms, found ${problems.length} problems: ${
          problems.slice(0, 12).join("; ")
        }`,
      );
    }
    await delay(opts.pollMs);
  }
}

function dec(text: string, what: string): ExactDecimal {
  const d = parseDecimal(text === "" ? "0" : text);
  assert.ok(d !== null, `${what}: expected a decimal, found ${JSON.stringify(text)}`);
  return d;
}

function sameDecimal(a: string, b: string): boolean {
  return compareDecimal(dec(a, "a"), dec(b, "b")) === 0;
}

// ---- processes ------------------------------------------------------------------------------

interface SimLine {
  provider: Provider;
  urls: Record<string, string>;
  symbols: string[];
}

/** The simulator process: started once, alive across the gateway's death. */
class SimProcess {
  readonly sims: SimLine[];
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;

  private constructor(child: Deno.ChildProcess, sims: SimLine[], drained: Promise<void>) {
    this.#child = child;
    this.sims = sims;
    this.#drained = drained;
  }

  static async start(): Promise<SimProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        SIM_CLI,
        "--providers",
        PROVIDERS.join(","),
        "--rate",
        "200",
        "--seed",
        "1",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const sims: SimLine[] = [];
    let buffered = "";
    try {
      readLoop: for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`expected {"ready":true} from the sim CLI, found end of output`);
        buffered += value;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) !== -1) {
          const line = JSON.parse(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          if (line.ready === true) break readLoop;
          sims.push(line as SimLine);
        }
      }
    } catch (err) {
      child.kill("SIGKILL");
      await child.status;
      await reader.cancel();
      throw err;
    }
    // Keep reading (nothing more is printed) so the pipe is consumed until the process ends.
    const drained = (async () => {
      while (!(await reader.read()).done) { /* discard */ }
    })();
    return new SimProcess(child, sims, drained);
  }

  sim(provider: Provider): SimLine {
    const s = this.sims.find((x) => x.provider === provider);
    assert.ok(s !== undefined, `expected a ${provider} simulator, found none`);
    return s;
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#child.status;
    await this.#drained;
  }
}

/**
 * One gateway process. Its log (JSON lines on stdout) and stderr are drained; the last lines
 * are kept for the failure message, and the "listening" line gives the port.
 */
class GatewayProcess {
  readonly port: Promise<number>;
  /** Every output line (a run logs a few thousand). */
  readonly tail: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<unknown>;

  constructor(dataDir: string, endpointFlags: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "--port",
        "0",
        "--view",
        "off",
        "--data-dir",
        dataDir,
        "--providers",
        PROVIDERS.join(","),
        "--symbols",
        "BTC-USDT,ETH-USDT",
        ...endpointFlags,
      ],
      env: {
        SWITCHYARD_TRADER_TOKENS: `${CONSUMER}:${TRADER_TOKEN}`,
        SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const port = Promise.withResolvers<number>();
    this.port = port.promise;
    this.port.catch(() => {}); // observed by whoever awaits it
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      let buffered = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) !== -1) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          this.tail.push(line);
          if (line.includes('"listening on http')) {
            try {
              port.resolve(Number(JSON.parse(line).port));
            } catch { /* not JSON: keep looking */ }
          }
        }
      }
    };
    this.#drained = Promise.all([drain(child.stdout), drain(child.stderr)]).finally(() =>
      port.reject(new Error(`expected a "listening" log line, found end of output`))
    );
  }

  /** SIGKILL: no shutdown path of the gateway runs. */
  async kill9(): Promise<Deno.CommandStatus> {
    this.#child.kill("SIGKILL");
    const status = await this.#child.status;
    await this.#drained;
    return status;
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#child.status;
    await this.#drained;
  }
}

async function listeningPort(gw: GatewayProcess): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      gw.port,
      new Promise<number>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`expected the gateway listening within ${PROCESS_START_TIMEOUT_MS} ms`),
            ),
          PROCESS_START_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- the consumer -------------------------------------------------------------------------

/** The trading consumer's connection: acks by req_id, reports into a shared list. */
class TraderConnection {
  readonly acks = new Map<string, Msg>();
  resume: Msg | null = null;
  firstType = "";
  readonly #ws: WebSocket;
  readonly #opened: Promise<void>;
  readonly #closed: Promise<void>;
  #isClosed = false;

  constructor(port: number, execSeq: number | null, onReport: (m: Msg) => void) {
    const q = execSeq === null ? "" : `&exec_seq=${execSeq}`;
    this.#ws = new WebSocket(
      `ws://127.0.0.1:${port}/v1/stream?consumer=${CONSUMER}&token=${TRADER_TOKEN}${q}`,
    );
    this.#opened = new Promise((resolve, reject) => {
      this.#ws.onopen = () => resolve();
      this.#ws.onerror = (e) => reject(new Error(`connect: ${(e as ErrorEvent).message}`));
    });
    this.#opened.catch(() => {});
    this.#closed = new Promise((resolve) => {
      this.#ws.onclose = () => {
        this.#isClosed = true;
        resolve();
      };
    });
    this.#ws.onmessage = (e: MessageEvent) => {
      const frame: unknown = JSON.parse(e.data as string);
      for (const m of (Array.isArray(frame) ? frame : [frame]) as Msg[]) {
        if (this.firstType === "") this.firstType = String(m.type);
        if (m.type === "ack") this.acks.set(String(m.req_id), m);
        else if (m.type === "exec_report") onReport(m);
        else if (m.type === "exec_resume") this.resume = m;
      }
    };
  }

  opened(): Promise<void> {
    return this.#opened;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  send(cmd: Msg): void {
    this.#ws.send(JSON.stringify(cmd));
  }

  async ack(reqId: string, timeoutMs = ACK_TIMEOUT_MS): Promise<Msg> {
    const start = performance.now();
    for (;;) {
      const a = this.acks.get(reqId);
      if (a !== undefined) return a;
      if (this.#isClosed) throw new Error(`expected the ack of ${reqId}, found the socket closed`);
      if (performance.now() - start > timeoutMs) {
        throw new Error(`expected the ack of ${reqId} within ${timeoutMs} ms, found none`);
      }
      await delay(5);
    }
  }

  /** Waits until the socket is closed (it is the gateway that died, or we close it). */
  async closed(timeoutMs = 5000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#closed,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`expected the socket closed within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (!this.#isClosed) {
      try {
        this.#ws.close(1000, "done");
      } catch { /* closing already */ }
    }
    await this.closed();
  }
}

// ---- orders ---------------------------------------------------------------------------------

type OrderKind = "rest" | "market" | "ioc";

interface SentOrder {
  clientId: string;
  provider: Provider;
  symbol: string;
  kind: OrderKind;
  qty: string;
  /** Half the quantity: what a partial fill by the knob fills. */
  halfQty: string;
  cmd: Msg;
  /** Every req_id this client id was sent with. */
  reqIds: string[];
  /** When it was first sent: before the kill, in the burst at the kill, after the restart. */
  phase: "flow" | "burst" | "after";
}

/** The i-th order of the flow: resting limit buys far below the market, market and IOC orders. */
function orderOf(i: number, phase: SentOrder["phase"]): SentOrder {
  const provider = PROVIDERS[i % 3];
  const round = Math.floor(i / 3);
  const btc = round % 2 === 0;
  const symbol = btc ? "BTC-USDT" : "ETH-USDT";
  const kinds: OrderKind[] = ["rest", "market", "rest", "ioc"];
  const kind = kinds[round % 4];
  const side = kind === "rest" ? "buy" : (Math.floor(round / 4) % 2 === 0 ? "buy" : "sell");
  const clientId = `k9-${phase}-${String(i).padStart(4, "0")}`;
  let qty: string;
  let halfQty = "";
  let price = "";
  if (kind === "rest") {
    qty = btc ? "0.002" : "0.06";
    halfQty = btc ? "0.001" : "0.03";
    price = btc ? `${60000 + (i % 97)}.00` : `${2000 + (i % 53)}.00`;
  } else {
    qty = btc ? "0.001" : "0.02";
    if (kind === "ioc") {
      price = side === "buy" ? (btc ? "120000.00" : "5000.00") : (btc ? "50000.00" : "1500.00");
    }
  }
  const cmd: Msg = {
    v: 1,
    type: "order_submit",
    req_id: "",
    client_order_id: clientId,
    provider,
    symbol,
    side,
    order_type: kind === "market" ? "market" : "limit",
    qty,
  };
  if (kind !== "market") {
    cmd.time_in_force = kind === "ioc" ? "IOC" : "GTC";
    cmd.price = price;
  }
  return { clientId, provider, symbol, kind, qty, halfQty, cmd, reqIds: [], phase };
}

/** An order as the gateway lists it (`GET /v1/consumers/{id}/orders`). */
interface JournalRow {
  client_order_id: string;
  provider: Provider;
  symbol: string;
  venue_client_id: string;
  state: IntentState;
  cum_qty: string;
  reason_code: string;
}

async function journalRows(port: number): Promise<JournalRow[]> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/consumers/${CONSUMER}/orders?limit=1000`, {
    headers: { Authorization: `Bearer ${TRADER_TOKEN}` },
  });
  const body = await res.json();
  assert.equal(res.status, 200, `orders listing: ${JSON.stringify(body)}`);
  return body.orders as JournalRow[];
}

/** Fires the simulator's fill knob; true when an open order was filled. */
async function simFill(restUrl: string, venueClientId: string, qty?: string): Promise<boolean> {
  const res = await fetch(`${restUrl}/_sim/orders/fill`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(
      qty === undefined ? { client_id: venueClientId } : {
        client_id: venueClientId,
        qty,
      },
    ),
  });
  await res.body?.cancel();
  return res.status === 200;
}

/** One pool as `GET /v1/pools` lists it. */
interface PoolStats {
  name: string;
  capacity: number;
  inFlight: number;
  acquires: number;
  releases: number;
  highWater: number;
}

async function orderRequestPool(port: number): Promise<PoolStats> {
  const body = await (await fetch(`http://127.0.0.1:${port}/v1/pools`)).json();
  return (body.pools as PoolStats[]).find((p) => p.name === "order_request")!;
}

interface SimStats {
  place_requests: number;
  accepted: number;
  rejected: number;
  place_requests_by_client_id: Record<string, number>;
}

async function simStats(restUrl: string): Promise<SimStats> {
  const res = await fetch(`${restUrl}/_sim/orders/stats`);
  assert.equal(res.status, 200);
  return await res.json() as SimStats;
}

// ---- the test -------------------------------------------------------------------------------

Deno.test("kill -9 of the gateway mid-flow: no order sent twice, no exec report missing or repeated", async () => {
  const startedMs = performance.now();
  await setupLogging({ level: "warning", format: "json", write: () => {} });
  const dataDir = await Deno.makeTempDir({ prefix: "switchyard-kill9-" });
  let simProc: SimProcess | null = null;
  let gateway: GatewayProcess | null = null;
  const gateways: GatewayProcess[] = [];
  let trader: TraderConnection | null = null;
  const venues: OrderVenue[] = [];
  try {
    simProc = await SimProcess.start();
    const sims = simProc;
    assert.deepEqual(sims.sims.map((s) => s.provider).sort(), [...PROVIDERS].sort());
    const endpointFlags = sims.sims.flatMap((s) =>
      Object.entries(s.urls).flatMap((
        [role, url],
      ) => ["--endpoint", `${s.provider}.${role}=${url}`])
    );
    const rest = (p: Provider) => sims.sim(p).urls.rest;

    // ---- state the consumer keeps -------------------------------------------------------
    const sent = new Map<string, SentOrder>();
    const reports: Msg[] = [];
    const reportsOf = new Map<string, Msg[]>();
    const onReport = (m: Msg) => {
      reports.push(m);
      const id = String(m.client_order_id);
      let list = reportsOf.get(id);
      if (list === undefined) reportsOf.set(id, list = []);
      list.push(m);
    };
    const lastSeq = () => reports.length === 0 ? 0 : Number(reports[reports.length - 1].seq);
    const lastState = (id: string) => {
      const list = reportsOf.get(id);
      return list === undefined ? "" : String(list[list.length - 1].state);
    };
    let reqSeq = 0;
    const submit = (conn: TraderConnection, o: SentOrder): string => {
      const reqId = `r${++reqSeq}`;
      o.reqIds.push(reqId);
      conn.send({ ...o.cmd, req_id: reqId });
      return reqId;
    };
    /**
     * Refusals a client retries with the same client order id (nothing was journaled): `busy`
     * (every pooled order request in flight), `venue_unavailable` (a venue still logging in),
     * and `unknown_provider` while the starting gateway has built no venue yet (its message
     * then lists no providers).
     */
    const retryable = (ack: Msg): boolean => {
      if (ack.ok === true) return false;
      const e = ack.error as { code?: string; message?: string } | undefined;
      return e?.code === "busy" || e?.code === "venue_unavailable" ||
        (e?.code === "unknown_provider" && /providers ,/.test(e.message ?? ""));
    };
    const retried = { busy: 0, venueUnavailable: 0, noVenueYet: 0 };
    const countRetry = (ack: Msg) => {
      const code = (ack.error as { code?: string }).code;
      if (code === "busy") retried.busy++;
      else if (code === "venue_unavailable") retried.venueUnavailable++;
      else retried.noVenueYet++;
    };
    /** Submits and waits for a final answer, re-sending after retryable refusals. */
    const submitSettled = async (conn: TraderConnection, o: SentOrder): Promise<Msg> => {
      for (;;) {
        const ack = await conn.ack(submit(conn, o));
        if (retryable(ack)) {
          countRetry(ack);
          await delay(20);
          continue;
        }
        return ack;
      }
    };
    /** Re-sends the orders whose latest submit was refused as retryable (the flow's own retry). */
    const resendRefused = (conn: TraderConnection, orders: Iterable<SentOrder>) => {
      for (const o of orders) {
        const ack = conn.acks.get(o.reqIds[o.reqIds.length - 1]);
        if (ack !== undefined && retryable(ack)) {
          countRetry(ack);
          submit(conn, o);
        }
      }
    };
    const acceptedBy = (conn: TraderConnection, o: SentOrder) =>
      o.reqIds.some((r) => conn.acks.get(r)?.ok === true);

    /** Fills done with the knob, by venue client id. */
    const knobFills = new Map<string, { full: boolean; when: string }[]>();
    const fullyFilled = new Set<string>();
    const fireFill = async (row: JournalRow, full: boolean, when: string): Promise<boolean> => {
      const o = sent.get(row.client_order_id)!;
      const ok = await simFill(
        rest(row.provider),
        row.venue_client_id,
        full ? undefined : o.halfQty,
      );
      if (ok) {
        let list = knobFills.get(row.venue_client_id);
        if (list === undefined) knobFills.set(row.venue_client_id, list = []);
        list.push({ full, when });
        if (full) fullyFilled.add(row.venue_client_id);
      }
      return ok;
    };
    const restingCandidates = (rows: JournalRow[]) =>
      rows.filter((r) =>
        sent.get(r.client_order_id)?.kind === "rest" &&
        (r.state === "ACK" || r.state === "PARTIAL") &&
        !fullyFilled.has(r.venue_client_id)
      );

    // ---- gateway #1 -------------------------------------------------------------------
    gateway = new GatewayProcess(dataDir, endpointFlags);
    gateways.push(gateway);
    let port = await listeningPort(gateway);
    await settle("GET /readyz 200", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      await res.body?.cancel();
      return res.status === 200 ? [] : [`${res.status}`];
    }, { timeoutMs: PROCESS_START_TIMEOUT_MS, pollMs: 50 });
    const put = await fetch(`http://127.0.0.1:${port}/v1/trading/${CONSUMER}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ enabled: true }),
    });
    const putBody = await put.json();
    assert.equal(putBody.ok, true, `enable trading: ${JSON.stringify(putBody)}`);
    trader = new TraderConnection(port, null, onReport);
    await trader.opened();

    // The venues log in after readiness: the first order of each provider waits for its venue.
    let i = 0;
    for (; i < 3; i++) {
      const o = orderOf(i, "flow");
      sent.set(o.clientId, o);
      const ack = await submitSettled(trader, o);
      assert.equal(ack.ok, true, `warm-up order ${o.clientId}: ${JSON.stringify(ack)}`);
    }

    // ---- the flow, with fills at the exchanges while it runs; SIGKILL in the middle of it ----
    let flowing = true;
    let lastRows: JournalRow[] = [];
    let requestPoolHighWater = 0;
    const fillLoop = (async () => {
      let full = false;
      while (flowing) {
        try {
          lastRows = await journalRows(port);
          requestPoolHighWater = (await orderRequestPool(port)).highWater;
          for (const row of restingCandidates(lastRows).slice(0, 2)) {
            full = !full;
            await fireFill(row, full, "flow");
          }
        } catch { /* the gateway is dying: the dead phase goes on from the last list */ }
        await delay(40);
      }
    })();
    const conn1 = trader;
    // Steady flow until ~150 orders are out and the knob has filled a few (bounded).
    while (
      i < FLOW_ORDERS_BEFORE_KILL || (knobFills.size < 6 && i < 2 * FLOW_ORDERS_BEFORE_KILL)
    ) {
      for (let k = 0; k < 3; k++, i++) {
        const o = orderOf(i, "flow");
        sent.set(o.clientId, o);
        submit(conn1, o);
      }
      await delay(12);
      resendRefused(conn1, sent.values());
    }
    const flowOrdersBeforeKill = i;
    // A burst the gateway cannot all have answered, then SIGKILL while the fill loop still runs.
    for (let k = 0; k < BURST_ORDERS_AT_KILL; k++, i++) {
      const o = orderOf(i, "burst");
      sent.set(o.clientId, o);
      submit(conn1, o);
    }
    await delay(2);
    const killStatus = await gateway.kill9();
    assert.equal(killStatus.signal, "SIGKILL");
    flowing = false;
    await fillLoop;
    assert.ok(knobFills.size >= 6, `expected fills during the flow, found ${knobFills.size}`);
    const seqAtKill = lastSeq();
    // "Not acknowledged": no submit of it was accepted (no answer, or a retryable refusal).
    const unackedAtKill = [...sent.values()].filter((o) => !acceptedBy(conn1, o));
    const unansweredAtKill = unackedAtKill.filter((o) =>
      !conn1.acks.has(o.reqIds[o.reqIds.length - 1])
    ).length;
    await conn1.closed();
    for (const a of conn1.acks.values()) {
      // Every answer before the kill accepted the order or asked to retry: the flow is valid
      // for every venue.
      assert.ok(a.ok === true || retryable(a), `ack before the kill: ${JSON.stringify(a)}`);
    }

    // ---- the gateway is dead: the exchanges fill resting orders ---------------------------
    const known = restingCandidates(lastRows).filter((r) => lastState(r.client_order_id) === "ACK");
    const deadFilled: JournalRow[] = [];
    const deadPartial: JournalRow[] = [];
    for (const p of PROVIDERS) {
      const mine = known.filter((r) => r.provider === p);
      for (const row of mine.slice(0, DEAD_FILLS_PER_PROVIDER)) {
        if (await fireFill(row, true, "dead")) deadFilled.push(row);
      }
      const partial = mine[DEAD_FILLS_PER_PROVIDER];
      if (partial !== undefined && await fireFill(partial, false, "dead")) {
        deadPartial.push(partial);
      }
    }
    assert.ok(deadFilled.length >= 9, `expected fills while dead, found ${deadFilled.length}`);

    // ---- gateway #2 on the same data dir; fills go on while it starts ----------------------
    gateway = new GatewayProcess(dataDir, endpointFlags);
    gateways.push(gateway);
    let starting = true;
    const startingFilled: JournalRow[] = [];
    const startingFills = (async () => {
      const pool = known.filter((r) =>
        !fullyFilled.has(r.venue_client_id) &&
        !deadPartial.includes(r)
      );
      for (const row of pool) {
        if (!starting || startingFilled.length >= 9) break;
        if (await fireFill(row, true, "starting")) startingFilled.push(row);
        await delay(25);
      }
    })();
    port = await listeningPort(gateway);
    trader = new TraderConnection(port, seqAtKill, onReport);
    await trader.opened();
    starting = false;
    await startingFills;
    const conn2 = trader;
    await settle("the exec_resume notice", () => conn2.resume === null ? ["none yet"] : [], {
      timeoutMs: 5000,
      pollMs: 5,
    });
    assert.equal(conn2.firstType, "exec_resume", "exec_resume is the first message");
    assert.equal(conn2.resume!.last_seen_seq, seqAtKill);
    assert.equal(conn2.resume!.next_seq, seqAtKill + 1);
    assert.equal(conn2.resume!.unavailable, 0);

    // ---- re-submit every unacknowledged client id and some acknowledged ones ---------------
    const ackedBefore = [...sent.values()].filter((o) => acceptedBy(conn1, o));
    const resubmit = [
      ...unackedAtKill,
      ...ackedBefore.filter((_, k) => k % 6 === 1).slice(0, ACKED_RESUBMITS),
    ];
    const resubmitAnswers = new Map<string, Msg>();
    await Promise.all(resubmit.map(async (o) => {
      resubmitAnswers.set(o.clientId, await submitSettled(conn2, o));
    }));
    let neverJournaled = 0;
    for (const o of resubmit) {
      const a = resubmitAnswers.get(o.clientId)!;
      const code = (a.error as { code?: string } | undefined)?.code;
      const wasAcked = ackedBefore.includes(o);
      if (a.ok === true) {
        assert.ok(!wasAcked, `${o.clientId} was acked before the kill, then accepted again`);
        neverJournaled++;
      } else {
        assert.equal(code, "duplicate_client_order_id", `${o.clientId}: ${JSON.stringify(a)}`);
      }
    }

    // ---- the flow goes on after the restart ------------------------------------------------
    const afterIds: string[] = [];
    for (let k = 0; k < FLOW_ORDERS_AFTER_RESTART; k++, i++) {
      const o = orderOf(i, "after");
      sent.set(o.clientId, o);
      afterIds.push(o.clientId);
      submit(conn2, o);
      if (k % 3 === 2) await delay(10);
    }
    const afterOrders = afterIds.map((id) => sent.get(id)!);
    await settle("answers to the orders sent after the restart", () => {
      resendRefused(conn2, afterOrders);
      return afterOrders.filter((o) => {
        const ack = conn2.acks.get(o.reqIds[o.reqIds.length - 1]);
        return ack === undefined || retryable(ack);
      }).map((o) => o.clientId);
    }, { timeoutMs: ACK_TIMEOUT_MS, pollMs: 20 });
    for (const o of afterOrders) {
      const a = conn2.acks.get(o.reqIds[o.reqIds.length - 1])!;
      assert.equal(a.ok, true, `after the restart ${o.clientId}: ${JSON.stringify(a)}`);
    }
    await settle("ACKs of the resting orders sent after the restart", () =>
      afterIds.filter((id) => sent.get(id)!.kind === "rest" && lastState(id) !== "ACK"), {
      timeoutMs: 10_000,
      pollMs: 20,
    });
    const afterRows = await journalRows(port);
    let afterFills = 0;
    for (
      const row of restingCandidates(afterRows).filter((r) =>
        afterIds.includes(r.client_order_id)
      )
    ) {
      if (afterFills++ >= 6) break;
      await fireFill(row, afterFills % 2 === 0, "after");
    }

    // ---- the gateway settles: journal and consumer agree, and match what the knob did -------
    /** What the exchange must say of an order the knob filled (test-side model). */
    const knobModel = (r: JournalRow): { state: IntentState; cum: string } | null => {
      const fills = knobFills.get(r.venue_client_id);
      if (fills === undefined) return null;
      const o = sent.get(r.client_order_id)!;
      if (fills.some((f) => f.full)) return { state: "FILLED", cum: o.qty };
      // Each partial fill takes half the quantity (or what is left).
      let cum = dec("0", "zero");
      for (let k = 0; k < fills.length; k++) cum = addDecimal(cum, dec(o.halfQty, "half"));
      return compareDecimal(cum, dec(o.qty, "qty")) >= 0
        ? { state: "FILLED", cum: o.qty }
        : { state: "PARTIAL", cum: o.halfQty };
    };
    let rows: JournalRow[] = [];
    await settle("every order settled, equal at gateway and consumer", async () => {
      rows = await journalRows(port);
      const problems: string[] = [];
      for (const r of rows) {
        if (r.state === "PENDING" || r.state === "SENT") {
          problems.push(`${r.client_order_id} ${r.state}`);
        }
        const list = reportsOf.get(r.client_order_id);
        const last = list?.[list.length - 1];
        if (last === undefined) {
          problems.push(`${r.client_order_id}: no report`);
        } else if (last.state !== r.state || !sameDecimal(String(last.cum_qty), r.cum_qty)) {
          problems.push(
            `${r.client_order_id}: report ${last.state} ${last.cum_qty}, journal ${r.state} ${r.cum_qty}`,
          );
        }
        const model = knobModel(r);
        if (model !== null && (model.state !== r.state || !sameDecimal(model.cum, r.cum_qty))) {
          problems.push(
            `${r.client_order_id} (${r.provider} ${r.venue_client_id}): knob filled ${model.state} ${model.cum}, journal ${r.state} ${r.cum_qty}; knob ${
              JSON.stringify(knobFills.get(r.venue_client_id))
            }; reports ${
              JSON.stringify(
                (reportsOf.get(r.client_order_id) ?? []).map((
                  m,
                ) => [m.seq, m.state, m.last_qty, m.last_px, m.exchange_trade_id, m.ts_exchange]),
              )
            }`,
          );
        }
      }
      return problems;
    }, { timeoutMs: SETTLE_TIMEOUT_MS, pollMs: 100 });

    // Every pooled order request and report went back to its pool.
    const pools = await (await fetch(`http://127.0.0.1:${port}/v1/pools`)).json() as {
      pools: PoolStats[];
    };
    for (const name of ["order_request", "exec_report"]) {
      const pool = pools.pools.find((p) => p.name === name)!;
      assert.equal(pool.inFlight, 0, `${name} in flight after settling`);
      assert.equal(pool.acquires, pool.releases, `${name} acquires = releases`);
    }

    // Nothing more is owed: a reconnect from the last seq finds the log's head there.
    await conn2.close();
    const n = lastSeq();
    trader = new TraderConnection(port, n, onReport);
    await trader.opened();
    const conn3 = trader;
    await settle("the final exec_resume", () => conn3.resume === null ? ["none"] : [], {
      timeoutMs: 5000,
      pollMs: 5,
    });
    assert.deepEqual(
      [
        conn3.resume!.last_seen_seq,
        conn3.resume!.next_seq,
        conn3.resume!.head_seq,
        conn3.resume!.unavailable,
      ],
      [n, n + 1, n, 0],
    );

    // ---- every journaled order is where the exchange has it -------------------------------
    // The gateway stops first: Kraken wants strictly increasing nonces per API key, so a second
    // client on the same key would make the gateway's own requests fail (and vice versa).
    await conn3.close();
    await gateway.stop();
    for (const p of PROVIDERS) {
      // Kraken: the stopped gateway's last nonce may be a few ms ahead of the clock, and a
      // refused start closes the venue: start a new one until one is up.
      const deadlineMs = performance.now() + 10_000;
      for (;;) {
        const v = MODULES[p].createOrderVenue!({
          endpoints: sims.sim(p).urls,
          credentials: MODULES[p].simCredentials!,
          logger: componentLogger("kill9-test"),
        });
        v.setListener({ onUpdate: () => {}, onResynced: () => {} });
        try {
          await v.start();
          venues.push(v);
          break;
        } catch (err) {
          await v.close();
          if (performance.now() > deadlineMs) throw err;
          await delay(100);
        }
      }
    }
    const venueOf = (p: Provider) => venues[PROVIDERS.indexOf(p)];
    const exchangeView = new Map<string, VenueOrderStatus | null>();
    const mismatches: string[] = [];
    for (const r of rows) {
      const st = await venueOf(r.provider).query(
        { venueClientId: r.venue_client_id, symbol: r.symbol },
        { timeoutMs: VENUE_REQUEST_TIMEOUT_MS },
      );
      exchangeView.set(r.client_order_id, st);
      if (st === null) {
        if (r.state !== "REJECTED") {
          mismatches.push(`${r.client_order_id}: ${r.state}, unknown at the exchange`);
        }
      } else if (execStateOf(st.state) !== r.state || !sameDecimal(st.cumQty, r.cum_qty)) {
        mismatches.push(
          `${r.client_order_id} (${r.provider} ${r.venue_client_id}): gateway ${r.state} ${r.cum_qty}, exchange ${st.state} ${st.cumQty}`,
        );
      }
    }
    assert.deepEqual(mismatches, [], "every order's last report is the exchange's state");

    // ---- assertions ------------------------------------------------------------------------
    const rowById = new Map(rows.map((r) => [r.client_order_id, r]));
    // Every journaled order is one the consumer sent; every accepted order is journaled.
    for (const r of rows) {
      assert.ok(sent.has(r.client_order_id), `journal row ${r.client_order_id} was sent`);
    }
    for (const o of sent.values()) {
      const acceptedSomewhere = [conn1, conn2].some((c) =>
        o.reqIds.some((q) => c.acks.get(q)?.ok === true)
      );
      if (acceptedSomewhere) {
        assert.ok(rowById.has(o.clientId), `${o.clientId} accepted and journaled`);
      }
    }

    // No order sent twice: every place request at every exchange carries a distinct client id,
    // and each is a journaled order of this provider.
    let placeRequests = 0;
    for (const p of PROVIDERS) {
      const stats = await simStats(rest(p));
      const byId = stats.place_requests_by_client_id;
      const twice = Object.entries(byId).filter(([, n]) => n !== 1);
      assert.deepEqual(twice, [], `${p}: place requests per client id`);
      assert.equal(stats.place_requests, Object.keys(byId).length, `${p}: one request per id`);
      placeRequests += stats.place_requests;
      const journaled = new Map(
        rows.filter((r) => r.provider === p).map((r) => [r.venue_client_id, r]),
      );
      for (const id of Object.keys(byId)) assert.ok(journaled.has(id), `${p} ${id} is journaled`);
      for (const [vid, r] of journaled) {
        const neverSent = r.state === "REJECTED" &&
          (r.reason_code === REASON_NOT_SENT_BEFORE_RESTART ||
            r.reason_code === REASON_TIMEOUT_NOT_FOUND);
        assert.equal(
          byId[vid] ?? 0,
          neverSent ? 0 : 1,
          `${p} ${vid} (${r.state} ${r.reason_code})`,
        );
      }
    }

    // Reports: seq 1..N without holes or repeats across the restart.
    const seqs = reports.map((m) => Number(m.seq));
    assert.deepEqual(seqs, seqs.map((_, k) => k + 1), "exec report seqs are 1..N in order");

    // Per order: ACK (or REJECTED) first, states never go back, one terminal report at most
    // and last, and the fills add up to the cumulative quantity.
    const tradeIds = new Set<string>();
    for (const [id, list] of reportsOf) {
      assert.ok(rowById.has(id), `reports only for journaled orders (${id})`);
      assert.ok(
        list[0].state === "ACK" || list[0].state === "REJECTED",
        `${id} starts ${list[0].state}`,
      );
      let rank = -1;
      let sum = dec("0", "zero");
      for (const [k, m] of list.entries()) {
        const state = m.state as IntentState;
        assert.ok(intentStateRank(state) >= rank, `${id}: ${state} after rank ${rank}`);
        rank = intentStateRank(state);
        if (rank === 3) assert.equal(k, list.length - 1, `${id}: the terminal report is the last`);
        if (state === "PARTIAL" || state === "FILLED") {
          sum = addDecimal(sum, dec(String(m.last_qty), id));
        }
        const trade = String(m.exchange_trade_id);
        if (trade !== "") {
          const key = `${m.provider} ${m.symbol} ${trade}`;
          assert.ok(!tradeIds.has(key), `fill ${key} reported twice`);
          tradeIds.add(key);
        }
      }
      assert.equal(
        compareDecimal(sum, dec(rowById.get(id)!.cum_qty, id)),
        0,
        `${id}: fills sum to cum_qty`,
      );
    }

    // Fills that happened while no gateway existed: reported after the restart, FILLED once.
    for (const r of [...deadFilled, ...startingFilled]) {
      const list = reportsOf.get(r.client_order_id)!;
      const filled = list.filter((m) => m.state === "FILLED");
      assert.equal(filled.length, 1, `${r.client_order_id}: one FILLED report`);
      assert.ok(
        Number(filled[0].seq) > seqAtKill,
        `${r.client_order_id}: FILLED after the restart`,
      );
      assert.equal(rowById.get(r.client_order_id)!.state, "FILLED");
      assert.equal(exchangeView.get(r.client_order_id)?.state, "filled");
    }
    for (const r of deadPartial) {
      const st = rowById.get(r.client_order_id)!.state;
      assert.ok(
        st === "PARTIAL" || st === "FILLED",
        `${r.client_order_id} partly filled while down: ${st}`,
      );
      assert.ok(
        reportsOf.get(r.client_order_id)!.some((m) =>
          m.state === "PARTIAL" && Number(m.seq) > seqAtKill
        ),
        `${r.client_order_id}: PARTIAL reported after the restart`,
      );
    }

    const notSent = rows.filter((r) => r.reason_code === REASON_NOT_SENT_BEFORE_RESTART).length;
    // Accepted (journaled) before the kill without any report by then: the exchange's answer
    // died with the process. Those the exchange got are adopted from it after the restart.
    const silentAtKill = ackedBefore.filter((o) =>
      !(reportsOf.get(o.clientId) ?? []).some((m) => Number(m.seq) <= seqAtKill)
    );
    const adopted = silentAtKill.filter((o) =>
      rowById.get(o.clientId)?.reason_code !== REASON_NOT_SENT_BEFORE_RESTART
    ).length;
    const summary = [
      `${sent.size} client ids (${flowOrdersBeforeKill + BURST_ORDERS_AT_KILL} before the kill`,
      `${unackedAtKill.length} unacked at the kill, ${unansweredAtKill} of them unanswered`,
      `${resubmit.length} re-submitted, ${neverJournaled} of them never journaled)`,
      `${rows.length} journaled, ${placeRequests} place requests`,
      `${silentAtKill.length} accepted without a report at the kill (${adopted} adopted from the exchange)`,
      `${notSent} journaled but never sent (closed not_sent_before_restart)`,
      `${reports.length} exec reports (${seqAtKill} before the kill)`,
      `${deadFilled.length} filled + ${deadPartial.length} partly filled while dead`,
      `${startingFilled.length} filled while restarting`,
      `${knobFills.size} orders touched by the fill knob`,
      `retried: ${retried.busy} busy, ${retried.venueUnavailable} venue_unavailable, ${retried.noVenueYet} unknown_provider`,
      `order_request pool high water ${requestPoolHighWater}`,
      `${((performance.now() - startedMs) / 1000).toFixed(1)} s`,
    ];
    console.log(`kill9: ${summary.join(", ")}`);
  } catch (err) {
    if (gateway !== null) console.error(`gateway log tail:\n${gateway.tail.slice(-40).join("\n")}`);
    // KILL9_LOG_DIR=<dir>: both gateways' full logs, for a post-mortem.
    const logDir = Deno.env.get("KILL9_LOG_DIR");
    if (logDir !== undefined) {
      for (const [k, g] of gateways.entries()) {
        await Deno.writeTextFile(`${logDir}/gateway${k + 1}.log`, g.tail.join("\n") + "\n");
      }
    }
    throw err;
  } finally {
    await trader?.close().catch(() => {});
    for (const v of venues) await v.close();
    await gateway?.stop();
    await simProc?.stop();
    await Deno.remove(dataDir, { recursive: true });
    await teardownLogging();
  }
});
