/**
 * The order side through the real gateway: `Gateway.start` with the embedded Binance, OKX and
 * Kraken simulators (their order sides on real loopback sockets), remote trading consumers on
 * `/v1/stream` and the HTTP control API.
 *
 * 1. Lifecycle per exchange: ACK -> PARTIAL -> FILLED (the simulator's fill knob on the venue
 *    client id the gateway reports), cancel -> CANCELLED, the exchange's own reject (insufficient
 *    balance), expire -> EXPIRED; exact quantities; report `seq` contiguous.
 * 2. Idempotency: a duplicate client order id of one consumer is refused and never sent; the
 *    same id of two consumers is sent twice under two venue client ids; an id refused before it
 *    was journaled (order-request pool exhausted) is accepted when retried.
 * 3. The trading switch (off by default, nothing reaches an exchange; admin enables over HTTP;
 *    self-disable over the WebSocket applies to the very next order; enabling there is
 *    `forbidden`) and authentication (no token: `unauthorized`; wrong token: upgrade `401`).
 * 4. 10 000 orders over the three exchanges under market-data load with one slow consumer: every
 *    execution report delivered once and in order.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import type { StreamLimits } from "../../src/server/mod.ts";
import { setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";
import { sleep, waitFor } from "../support/binance_adapter_harness.ts";
import { TraderClient, upgradeStatus, type WireMessage } from "../support/trader_stream_client.ts";
import { RawWsClient } from "../integration/raw_ws_client.ts";

const PROVIDERS = ["binance", "okx", "kraken"] as const;
type Provider = typeof PROVIDERS[number];

const TOKEN_A = "tokenA-0123456789abcdef";
const TOKEN_B = "tokenB-0123456789abcdef";
const TOKEN_ADMIN = "admin-0123456789abcdef";
const ENV = {
  SWITCHYARD_TRADER_TOKENS: `strat-a:${TOKEN_A},strat-b:${TOKEN_B}`,
  SWITCHYARD_ADMIN_TOKEN: TOKEN_ADMIN,
};

/** The in-process admin knobs every simulator's order side has. */
interface SimOrderKnobs {
  stats(): {
    place_requests: number;
    accepted: number;
    rejected: number;
    place_requests_by_client_id: Record<string, number>;
  };
  fill(clientId: string, opts?: { qty?: string }): unknown;
  expire(clientId: string): unknown;
}

/** A started gateway and handles on it. */
interface Harness {
  gw: Gateway;
  base: string;
  address: { host: string; port: number };
  sims: Record<Provider, SimOrderKnobs>;
  /** Warning and error log lines of the gateway (JSON). */
  logs: string[];
  close(): Promise<void>;
}

/** Waits until the six books are LIVE (the log lines so far are in the error otherwise). */
async function waitLive(h: Harness): Promise<void> {
  try {
    await waitFor("6 books LIVE", () => {
      const books = h.gw.feeds.flatMap((f) => f.books());
      return books.length === 6 && books.every((b) => b.state === "LIVE");
    }, { timeoutMs: 20_000 });
  } catch (err) {
    const states = h.gw.feeds.flatMap((f) => f.books()).map((b) =>
      `${b.provider} ${b.symbol} ${b.state}`
    );
    throw new Error(
      `${(err as Error).message}; books: ${states.join(", ")}; log: ${h.logs.join("\n")}`,
    );
  }
}

async function startGateway(
  extra: string[],
  streamLimits?: Partial<StreamLimits>,
): Promise<Harness> {
  const logs: string[] = [];
  await setupLogging({ level: "warning", format: "json", write: (l) => logs.push(l) });
  const r = loadConfig([
    "--port",
    "0",
    "--view",
    "off",
    "--symbols",
    "BTC-USDT,ETH-USDT",
    ...extra,
  ], { env: ENV });
  assert.equal(r.kind, "run");
  if (r.kind !== "run") throw new Error("unreachable");
  const gw = await Gateway.start(r.config, { view: false, streamLimits });
  const sims = {} as Record<Provider, SimOrderKnobs>;
  for (const f of gw.feeds) {
    // deno-lint-ignore no-explicit-any
    const sim = (f as any).sim as { orders: SimOrderKnobs } | null;
    assert.ok(sim !== null, `${f.provider} runs its embedded simulator`);
    sims[f.provider as Provider] = sim.orders;
  }
  assert.deepEqual(Object.keys(sims).sort(), [...PROVIDERS].sort());
  const address = gw.httpAddress;
  return {
    gw,
    address,
    base: `http://${address.host}:${address.port}`,
    sims,
    logs,
    close: async () => {
      await gw.shutdown("test done");
      await teardownLogging();
    },
  };
}

/** `{status, body}` of one HTTP call with an optional bearer token. */
async function api(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(url, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : JSON.parse(text) };
}

/** The digits of a decimal without insignificant zeros (`"0.00040000"` -> `"0.0004"`). */
function dec(s: unknown): string {
  assert.equal(typeof s, "string");
  const text = s as string;
  assert.match(text, /^\d+(\.\d+)?$/, `a decimal, found "${text}"`);
  let [int, frac = ""] = text.split(".");
  int = int.replace(/^0+(?=\d)/, "");
  frac = frac.replace(/0+$/, "");
  return frac === "" ? int : `${int}.${frac}`;
}

/** Exact sum of decimal strings (8 fraction digits at most, as on these exchanges). */
function decSum(values: unknown[]): string {
  let atoms = 0n;
  for (const v of values) {
    const [int, frac = ""] = dec(v).split(".");
    assert.ok(frac.length <= 12, `at most 12 fraction digits, found ${v}`);
    atoms += BigInt(int) * 10n ** 12n + BigInt(frac.padEnd(12, "0"));
  }
  const int = atoms / 10n ** 12n;
  const frac = (atoms % 10n ** 12n).toString().padStart(12, "0").replace(/0+$/, "");
  return frac === "" ? `${int}` : `${int}.${frac}`;
}

/** Asserts `seq` of `reports` is exactly 1..n in arrival order. */
function assertSeqContiguous(who: string, reports: WireMessage[]): void {
  for (const [i, r] of reports.entries()) {
    assert.equal(r.seq, i + 1, `${who}: report #${i + 1} has seq ${r.seq}`);
  }
}

/** An order_submit command. */
function submitCmd(
  reqId: string,
  clientOrderId: string,
  fields: {
    provider: string;
    symbol?: string;
    side?: "buy" | "sell";
    orderType?: "limit" | "market";
    tif?: "GTC" | "IOC" | "FOK";
    price?: string;
    qty?: string;
  },
): WireMessage {
  const limit = (fields.orderType ?? "limit") === "limit";
  return {
    v: 1,
    type: "order_submit",
    req_id: reqId,
    client_order_id: clientOrderId,
    provider: fields.provider,
    symbol: fields.symbol ?? "BTC-USDT",
    side: fields.side ?? "buy",
    order_type: fields.orderType ?? "limit",
    ...(limit ? { time_in_force: fields.tif ?? "GTC", price: fields.price ?? "40000" } : {}),
    qty: fields.qty ?? "0.001",
  };
}

/** The journaled orders of a consumer (newest first), as `GET /v1/consumers/{id}/orders`. */
async function listOrders(
  base: string,
  consumerId: string,
  token: string,
  limit = 1000,
): Promise<Record<string, unknown>[]> {
  const { status, body } = await api(
    "GET",
    `${base}/v1/consumers/${consumerId}/orders?limit=${limit}`,
    { token },
  );
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.consumer_id, consumerId);
  return body.orders as Record<string, unknown>[];
}

async function venueClientId(
  base: string,
  consumerId: string,
  token: string,
  clientOrderId: string,
): Promise<string> {
  const order = (await listOrders(base, consumerId, token, 100)).find((o) =>
    o.client_order_id === clientOrderId
  );
  assert.ok(order !== undefined, `order ${clientOrderId} of ${consumerId} journaled`);
  const id = order.venue_client_id as string;
  assert.match(id, /^sy[0-9a-z]{1,16}$/, "the gateway's venue client id");
  return id;
}

function totalPlaceRequests(sims: Record<Provider, SimOrderKnobs>): number {
  return PROVIDERS.reduce((n, p) => n + sims[p].stats().place_requests, 0);
}

/** Refusals a retry with the same client order id may overcome. */
const RETRIABLE = ["busy", "venue_unavailable"];

let reqCounter = 0;
function nextReq(): string {
  return `r${++reqCounter}`;
}

/**
 * Submits over the WebSocket until accepted: `venue_unavailable` (venue still logging in) or
 * `busy` (no free request slot) is retried with the SAME client order id. Returns the ok ack.
 */
async function submitAccepted(
  c: TraderClient,
  clientOrderId: string,
  fields: Parameters<typeof submitCmd>[2],
): Promise<WireMessage> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const ack = await c.request(submitCmd(nextReq(), clientOrderId, fields));
    if (ack.ok === true) return ack;
    const code = (ack.error as { code: string }).code;
    assert.ok(RETRIABLE.includes(code), `${clientOrderId}: ${JSON.stringify(ack)}`);
    assert.ok(performance.now() < deadline, `${clientOrderId}: venue still unavailable`);
    await sleep(50);
  }
}

async function waitReport(
  c: TraderClient,
  clientOrderId: string,
  state: string,
  timeoutMs = 10_000,
): Promise<WireMessage> {
  await c.waitFor(
    `${clientOrderId} ${state}`,
    () => c.reports.some((r) => r.client_order_id === clientOrderId && r.state === state),
    timeoutMs,
  );
  return c.reports.find((r) => r.client_order_id === clientOrderId && r.state === state)!;
}

/** What each exchange answers an order it cannot fund with (its own code and text). */
const INSUFFICIENT_BALANCE: Record<Provider, { code: string; text: RegExp }> = {
  binance: { code: "-2010", text: /^Account has insufficient balance for requested action\.$/ },
  okx: { code: "51008", text: /^Order failed\. Insufficient USDT balance in account$/ },
  kraken: { code: "EOrder:Insufficient funds", text: /^EOrder:Insufficient funds$/ },
};

Deno.test("orders through the gateway: lifecycle on three exchanges, idempotency, trading switch, auth", async (t) => {
  const h = await startGateway([
    "--data-dir",
    ":memory:",
    "--sim-rate",
    "500",
    // The seed's small order-request pool, so a burst exhausts it (the default is 256).
    "--pool-capacity",
    "OrderRequest=20",
  ]);
  const { base, address, sims } = h;
  const clients: TraderClient[] = [];
  try {
    await waitLive(h);
    const a = await TraderClient.connect(address, { consumerId: "strat-a", token: TOKEN_A });
    clients.push(a);
    // The other trader presents its token the way browsers must: in the query string.
    const b = await TraderClient.connect(address, {
      consumerId: "strat-b",
      token: TOKEN_B,
      tokenVia: "query",
    });
    clients.push(b);

    await t.step(
      "trading is off by default: refused, and nothing reaches any exchange",
      async () => {
        for (const provider of PROVIDERS) {
          const ack = await a.request(submitCmd(nextReq(), `off-${provider}`, { provider }));
          assert.equal(ack.ok, false);
          assert.equal(
            (ack.error as { code: string }).code,
            "trading_disabled",
            JSON.stringify(ack),
          );
        }
        const cancel = await a.request({
          v: 1,
          type: "order_cancel",
          req_id: nextReq(),
          client_order_id: "off-binance",
          provider: "binance",
          symbol: "BTC-USDT",
        });
        assert.equal((cancel.error as { code: string }).code, "trading_disabled");
        const http = await api("POST", `${base}/v1/consumers/strat-a/orders`, {
          token: TOKEN_A,
          body: {
            client_order_id: "off-http",
            provider: "okx",
            symbol: "BTC-USDT",
            side: "buy",
            order_type: "limit",
            price: "40000",
            qty: "0.001",
          },
        });
        assert.equal(http.status, 403);
        assert.equal((http.body.error as { code: string }).code, "trading_disabled");
        const sw = await api("GET", `${base}/v1/trading/strat-a`, { token: TOKEN_A });
        assert.deepEqual(sw, { status: 200, body: { consumer_id: "strat-a", enabled: false } });
        // Let anything that would have been sent arrive before counting.
        await sleep(200);
        for (const p of PROVIDERS) {
          assert.equal(sims[p].stats().place_requests, 0, `${p} got no place request`);
        }
        assert.deepEqual(a.reports, [], "no report for a refused order");
        assert.deepEqual(await listOrders(base, "strat-a", TOKEN_A), [], "nothing journaled");
      },
    );

    await t.step(
      "only the admin enables trading: forbidden over the WebSocket and with the consumer's token",
      async () => {
        const ws = await a.request({
          v: 1,
          type: "trading",
          req_id: nextReq(),
          consumer_id: "strat-a",
          enabled: true,
        });
        assert.equal((ws.error as { code: string }).code, "forbidden", JSON.stringify(ws));
        const own = await api("PUT", `${base}/v1/trading/strat-a`, {
          token: TOKEN_A,
          body: { enabled: true },
        });
        assert.equal(own.status, 403);
        const other = await a.request({
          v: 1,
          type: "trading",
          req_id: nextReq(),
          consumer_id: "strat-b",
          enabled: false,
        });
        assert.equal((other.error as { code: string }).code, "forbidden", "not another's switch");
        for (const id of ["strat-a", "strat-b"]) {
          const put = await api("PUT", `${base}/v1/trading/${id}`, {
            token: TOKEN_ADMIN,
            body: { enabled: true },
          });
          assert.equal(put.status, 200, JSON.stringify(put.body));
          assert.equal(put.body.ok, true);
        }
        assert.equal(
          (await api("GET", `${base}/v1/trading/strat-a`, { token: TOKEN_ADMIN })).body.enabled,
          true,
        );
      },
    );

    await t.step(
      "no token: unauthorized for order commands; a wrong token is refused 401 at the upgrade",
      async () => {
        const watcher = await TraderClient.connect(address, { consumerId: "watcher" });
        clients.push(watcher);
        const order = await watcher.request(submitCmd(nextReq(), "w1", { provider: "binance" }));
        assert.equal((order.error as { code: string }).code, "unauthorized", JSON.stringify(order));
        const cancel = await watcher.request({
          v: 1,
          type: "order_cancel",
          req_id: nextReq(),
          client_order_id: "w1",
          provider: "binance",
          symbol: "BTC-USDT",
        });
        assert.equal((cancel.error as { code: string }).code, "unauthorized");
        const trading = await watcher.request({
          v: 1,
          type: "trading",
          req_id: nextReq(),
          consumer_id: "watcher",
          enabled: false,
        });
        assert.equal((trading.error as { code: string }).code, "unauthorized");
        // Wrong token, another consumer's token, a token for an id without one.
        for (
          const path of [
            `/v1/stream?consumer=strat-c&token=${TOKEN_A}x`,
            `/v1/stream?consumer=strat-c&token=${TOKEN_B}`,
            `/v1/stream?consumer=strat-x&token=${TOKEN_A}`,
          ]
        ) {
          const res = await upgradeStatus(address.port, path);
          assert.equal(res.status, 401, `${path}: ${res.head}`);
          assert.match(res.body, /expected a trading token that authenticates/);
        }
        const noToken = await api("POST", `${base}/v1/consumers/strat-a/orders`, {
          body: {
            client_order_id: "h1",
            provider: "binance",
            symbol: "BTC-USDT",
            side: "buy",
            order_type: "limit",
            price: "40000",
            qty: "0.001",
          },
        });
        assert.equal(noToken.status, 401);
        const otherToken = await api("POST", `${base}/v1/consumers/strat-a/orders`, {
          token: TOKEN_B,
          body: {
            client_order_id: "h1",
            provider: "binance",
            symbol: "BTC-USDT",
            side: "buy",
            order_type: "limit",
            price: "40000",
            qty: "0.001",
          },
        });
        assert.equal(otherToken.status, 401);
        await watcher.close();
        assert.equal(totalPlaceRequests(sims), 0, "still nothing sent to any exchange");
      },
    );

    for (const provider of PROVIDERS) {
      await t.step(
        `${provider}: ACK -> PARTIAL -> FILLED, CANCELLED, REJECTED (exchange's reason), EXPIRED`,
        async () => {
          const id = (what: string) => `${provider}-${what}`;
          // Resting buys far below the market (~87 000) do not fill on their own.
          await submitAccepted(a, id("fill"), { provider, price: "40000", qty: "0.001" });
          await submitAccepted(a, id("cancel"), { provider, price: "40001", qty: "0.002" });
          await submitAccepted(a, id("expire"), { provider, price: "40002", qty: "0.003" });
          // Far more than the account holds (about 20 000 000 USDT of BTC).
          await submitAccepted(a, id("reject"), { provider, price: "40000", qty: "500" });
          for (const what of ["fill", "cancel", "expire"]) await waitReport(a, id(what), "ACK");
          const rejected = await waitReport(a, id("reject"), "REJECTED");
          assert.equal(rejected.reason_code, INSUFFICIENT_BALANCE[provider].code);
          assert.match(rejected.reason_text as string, INSUFFICIENT_BALANCE[provider].text);
          assert.equal(rejected.exchange_order_id, "");
          assert.equal(dec(rejected.cum_qty), "0");

          const venueFill = await venueClientId(base, "strat-a", TOKEN_A, id("fill"));
          assert.ok(sims[provider].fill(venueFill, { qty: "0.0004" }) !== undefined);
          const partial = await waitReport(a, id("fill"), "PARTIAL");
          assert.equal(dec(partial.cum_qty), "0.0004");
          assert.equal(dec(partial.last_qty), "0.0004");
          assert.equal(dec(partial.last_px), "40000");
          assert.equal(dec(partial.cum_quote), "16");
          assert.notEqual(partial.exchange_trade_id, "");
          assert.ok(sims[provider].fill(venueFill) !== undefined);
          const filled = await waitReport(a, id("fill"), "FILLED");
          assert.equal(dec(filled.cum_qty), "0.001");
          assert.equal(dec(filled.last_qty), "0.0006");
          assert.equal(dec(filled.cum_quote), "40");
          assert.notEqual(filled.exchange_trade_id, partial.exchange_trade_id);
          assert.deepEqual(
            a.reportsOf(id("fill")).map((r) => r.state),
            ["ACK", "PARTIAL", "FILLED"],
          );

          const cancelAck = await a.request({
            v: 1,
            type: "order_cancel",
            req_id: nextReq(),
            client_order_id: id("cancel"),
            provider,
            symbol: "BTC-USDT",
          });
          assert.equal(cancelAck.ok, true, JSON.stringify(cancelAck));
          const cancelled = await waitReport(a, id("cancel"), "CANCELLED");
          assert.equal(dec(cancelled.cum_qty), "0");
          assert.deepEqual(a.reportsOf(id("cancel")).map((r) => r.state), ["ACK", "CANCELLED"]);
          const again = await a.request({
            v: 1,
            type: "order_cancel",
            req_id: nextReq(),
            client_order_id: id("cancel"),
            provider,
            symbol: "BTC-USDT",
          });
          assert.equal(
            (again.error as { code: string }).code,
            "order_closed",
            JSON.stringify(again),
          );

          const venueExpire = await venueClientId(base, "strat-a", TOKEN_A, id("expire"));
          assert.ok(sims[provider].expire(venueExpire) !== undefined);
          await waitReport(a, id("expire"), "EXPIRED");
          assert.deepEqual(a.reportsOf(id("expire")).map((r) => r.state), ["ACK", "EXPIRED"]);
          assert.deepEqual(a.reportsOf(id("reject")).map((r) => r.state), ["REJECTED"]);

          for (const r of a.reports.filter((r) => r.provider === provider)) {
            assert.equal(r.consumer_id, "strat-a");
            assert.equal(r.symbol, "BTC-USDT");
            assert.equal(r.side, "buy");
            assert.equal(r.order_type, "limit");
          }
          const stats = sims[provider].stats();
          assert.equal(stats.place_requests, 4, JSON.stringify(stats));
          assert.equal(stats.rejected, 1);
          assert.ok(Object.values(stats.place_requests_by_client_id).every((n) => n === 1));
          const journaled = await listOrders(base, "strat-a", TOKEN_A);
          const states = Object.fromEntries(
            journaled.filter((o) => o.provider === provider).map((
              o,
            ) => [o.client_order_id, o.state]),
          );
          assert.deepEqual(states, {
            [id("fill")]: "FILLED",
            [id("cancel")]: "CANCELLED",
            [id("expire")]: "EXPIRED",
            [id("reject")]: "REJECTED",
          });
        },
      );
    }

    await t.step(
      "a duplicate client order id is refused from the journal and never sent again",
      async () => {
        const before = sims.binance.stats();
        const venueFill = await venueClientId(base, "strat-a", TOKEN_A, "binance-fill");
        const dup = await a.request(submitCmd(nextReq(), "binance-fill", { provider: "binance" }));
        assert.equal(dup.ok, false);
        const err = dup.error as { code: string; message: string };
        assert.equal(err.code, "duplicate_client_order_id");
        assert.match(err.message, /existing order: \{.*"state":"FILLED"/);
        // Also on another provider, and over HTTP (409).
        const dupOkx = await a.request(submitCmd(nextReq(), "binance-fill", { provider: "okx" }));
        assert.equal((dupOkx.error as { code: string }).code, "duplicate_client_order_id");
        const http = await api("POST", `${base}/v1/consumers/strat-a/orders`, {
          token: TOKEN_A,
          body: {
            client_order_id: "binance-fill",
            provider: "binance",
            symbol: "BTC-USDT",
            side: "buy",
            order_type: "limit",
            price: "40000",
            qty: "0.001",
          },
        });
        assert.equal(http.status, 409);
        // Two submits of one new id back to back: the second is refused while the first is in
        // flight.
        const r1 = nextReq();
        const r2 = nextReq();
        a.send(submitCmd(r1, "twice", { provider: "binance" }));
        a.send(submitCmd(r2, "twice", { provider: "binance" }));
        await a.waitFor("both acks", () => a.acks.has(r1) && a.acks.has(r2));
        assert.equal(a.acks.get(r1)!.ok, true, JSON.stringify(a.acks.get(r1)));
        assert.equal((a.acks.get(r2)!.error as { code: string }).code, "duplicate_client_order_id");
        await waitReport(a, "twice", "ACK");
        await sleep(200);
        const after = sims.binance.stats();
        assert.equal(after.place_requests_by_client_id[venueFill], 1);
        assert.equal(after.place_requests, before.place_requests + 1, "only 'twice', once");
        assert.equal(a.reportsOf("twice").length, 1);
        assert.equal(a.reportsOf("binance-fill").length, 3, "no new report for the duplicates");
      },
    );

    await t.step(
      "the same client order id of two consumers: both sent, under two venue ids",
      async () => {
        await submitAccepted(a, "shared-1", { provider: "okx" });
        await submitAccepted(b, "shared-1", { provider: "okx" });
        await waitReport(a, "shared-1", "ACK");
        await waitReport(b, "shared-1", "ACK");
        const va = await venueClientId(base, "strat-a", TOKEN_A, "shared-1");
        const vb = await venueClientId(base, "strat-b", TOKEN_B, "shared-1");
        assert.notEqual(va, vb);
        const byId = sims.okx.stats().place_requests_by_client_id;
        assert.equal(byId[va], 1);
        assert.equal(byId[vb], 1);
        assert.equal(b.reports.length, 1);
        assert.equal(b.reports[0].consumer_id, "strat-b");
        assert.equal(b.reports[0].seq, 1, "strat-b's own sequence");
        assert.ok(!a.reports.some((r) => r.consumer_id !== "strat-a"));
      },
    );

    await t.step(
      "an id refused for want of a request slot is accepted when retried, and sent once",
      async () => {
        // More submits in one burst than the order-request pool holds (20 in flight): the rest
        // are refused busy before being journaled.
        const before = totalPlaceRequests(sims);
        const n = 80;
        const reqIds: string[] = [];
        for (let i = 0; i < n; i++) {
          const r = nextReq();
          reqIds.push(r);
          a.send(submitCmd(r, `burst-${i}`, { provider: PROVIDERS[i % 3], price: "40000" }));
        }
        await a.waitFor("every burst ack", () => reqIds.every((r) => a.acks.has(r)));
        const refused = reqIds.map((r, i) => ({ i, ack: a.acks.get(r)! })).filter((x) =>
          x.ack.ok !== true
        );
        for (const { ack } of refused) {
          assert.equal((ack.error as { code: string }).code, "busy", JSON.stringify(ack));
        }
        assert.ok(refused.length > 0, "the burst exhausted the request pool");
        for (const { i } of refused) {
          await submitAccepted(a, `burst-${i}`, { provider: PROVIDERS[i % 3], price: "40000" });
        }
        await a.waitFor("an ACK for every burst order", () => {
          const acked = new Set(
            a.reports.filter((r) => String(r.client_order_id).startsWith("burst-")).map((r) =>
              r.client_order_id
            ),
          );
          return acked.size === n;
        });
        await sleep(200);
        assert.equal(totalPlaceRequests(sims), before + n, "each burst order sent exactly once");
        for (const p of PROVIDERS) {
          const counts = Object.values(sims[p].stats().place_requests_by_client_id);
          assert.ok(counts.every((c) => c === 1), `${p}: no venue client id sent twice`);
        }
        console.log(
          `  burst: ${refused.length} of ${n} refused for want of a slot, all accepted on retry`,
        );
      },
    );

    await t.step(
      "self-disable over the WebSocket stops the very next order; nothing sent",
      async () => {
        const before = totalPlaceRequests(sims);
        const started = performance.now();
        const off = await a.request({
          v: 1,
          type: "trading",
          req_id: nextReq(),
          consumer_id: "strat-a",
          enabled: false,
        });
        assert.equal(off.ok, true, JSON.stringify(off));
        const next = await a.request(submitCmd(nextReq(), "after-off", { provider: "kraken" }));
        const elapsedMs = performance.now() - started;
        assert.equal((next.error as { code: string }).code, "trading_disabled");
        assert.ok(elapsedMs < 1000, `applied within 1 s, found ${elapsedMs.toFixed(0)} ms`);
        const http = await api("GET", `${base}/v1/trading/strat-a`, { token: TOKEN_A });
        assert.equal(http.body.enabled, false);
        // Another consumer keeps trading.
        await submitAccepted(b, "b-after-a-off", { provider: "kraken" });
        await waitReport(b, "b-after-a-off", "ACK");
        await sleep(200);
        assert.equal(totalPlaceRequests(sims), before + 1, "only strat-b's order was sent");
        const reenable = await a.request({
          v: 1,
          type: "trading",
          req_id: nextReq(),
          consumer_id: "strat-a",
          enabled: true,
        });
        assert.equal((reenable.error as { code: string }).code, "forbidden");
      },
    );

    await t.step("each consumer's report seq is 1..n without holes, each report once", () => {
      assertSeqContiguous("strat-a", a.reports);
      assertSeqContiguous("strat-b", b.reports);
      assert.equal(a.ackCount, a.acks.size, "one ack per command");
    });
  } finally {
    for (const c of clients) await c.close();
    await h.close();
  }
  assert.equal(h.gw.poolManager.totalInFlight(), 0);
});

// ---- 10 000 orders under market-data load with one slow consumer ---------------------------

/** Orders in the load test, over both consumers and the three exchanges. */
const LOAD_ORDERS = 10_000;
/** Orders of the fast consumer without an answer yet (ack refusal or first report). */
const FAST_WINDOW = 8;
/** Orders the slow consumer sends per round (it reads only a little between rounds). */
const SLOW_BATCH = 8;
/**
 * While submitting, the slow consumer reads on average at most this many bytes per second, well
 * below what it receives (market data at --sim-rate 2000 is several hundred kB/s), so the
 * kernel's buffers and then the gateway's send buffer to it fill.
 */
const SLOW_READ_BYTES_PER_S = 25_000;
/** The slow consumer reads nothing until its session paused, at most this long, ms. */
const SLOW_STALL_MS_MAX = 45_000;
/** The slow consumer's pause between rounds, ms. */
const SLOW_PAUSE_MS = 25;
/** Bound on the whole load run (generous: a 2-core machine shared with other work), ms. */
const LOAD_DEADLINE_MS = 600_000;

/** One planned order of the load test. */
interface PlannedOrder {
  clientOrderId: string;
  consumer: "strat-a" | "strat-b";
  provider: Provider;
  symbol: string;
  side: "buy" | "sell";
  tif: "GTC" | "IOC";
  price: string;
  qty: string;
}

/**
 * One order in ten (of each consumer) is a marketable IOC buy (fills, or its rest is cancelled
 * or expired); the others rest far from the market (buys below, sells above).
 */
function planLoad(asks: Map<string, number>): PlannedOrder[] {
  const out: PlannedOrder[] = [];
  for (let i = 0; i < LOAD_ORDERS; i++) {
    const consumer = i % 2 === 0 ? "strat-a" : "strat-b";
    const provider = PROVIDERS[Math.floor(i / 2) % 3];
    const btc = Math.floor(i / 6) % 2 === 0;
    const symbol = btc ? "BTC-USDT" : "ETH-USDT";
    const qty = btc ? "0.001" : "0.01";
    const clientOrderId = `${consumer === "strat-a" ? "fa" : "sl"}-${i}`;
    if (i % 20 === 9 || i % 20 === 14) {
      const ask = asks.get(`${provider}:${symbol}`)!;
      const price = String(Math.ceil(ask * 1.05));
      out.push({ clientOrderId, consumer, provider, symbol, side: "buy", tif: "IOC", price, qty });
    } else if (i % 2 === 0) {
      const price = btc ? "40000" : "1500";
      out.push({ clientOrderId, consumer, provider, symbol, side: "buy", tif: "GTC", price, qty });
    } else {
      const price = btc ? "200000" : "9000";
      out.push({ clientOrderId, consumer, provider, symbol, side: "sell", tif: "GTC", price, qty });
    }
  }
  return out;
}

function loadCmd(reqId: string, o: PlannedOrder): WireMessage {
  return submitCmd(reqId, o.clientOrderId, {
    provider: o.provider,
    symbol: o.symbol,
    side: o.side,
    tif: o.tif,
    price: o.price,
    qty: o.qty,
  });
}

/** Counts of what a load consumer went through. */
interface LoadTally {
  retries: number;
  accepted: number;
}

/**
 * The slow trader: a hand-rolled WebSocket client that reads only a little between rounds,
 * so the gateway's send buffer to it fills and its session pauses; acks and reports are taken
 * from what it has read.
 */
class SlowTrader {
  readonly acks = new Map<string, WireMessage>();
  readonly reports: WireMessage[] = [];
  events = 0;
  #seen = 0;

  constructor(readonly raw: RawWsClient) {}

  /** Takes the messages read since the last call. */
  take(): void {
    const ms = this.raw.messages;
    for (; this.#seen < ms.length; this.#seen++) {
      const m = ms[this.#seen];
      if (m.type === "ack") {
        assert.ok(!this.acks.has(String(m.req_id)), `one ack per req_id, ${m.req_id} twice`);
        this.acks.set(String(m.req_id), m);
      } else if (m.type === "exec_report") {
        this.reports.push(m);
      } else if (m.type === "event") {
        this.events++;
      }
    }
    // Nothing read is needed twice: the raw list would otherwise hold every market event.
    if (this.#seen > 50_000) {
      ms.splice(0, this.#seen);
      this.#seen = 0;
    }
  }

  /** Reads up to `bytes` more (or for `waitMs`), then takes what was read. */
  async readSome(bytes: number, waitMs: number): Promise<void> {
    const target = this.raw.bytesRead + bytes;
    try {
      await this.raw.readUntil("more bytes", () => this.raw.bytesRead >= target, waitMs);
    } catch (err) {
      if (!/timed out/.test((err as Error).message)) throw err;
    }
    this.take();
  }
}

/** Whether the reports of `o` so far are complete (resting: its ACK; IOC: a final state). */
function complete(o: PlannedOrder, states: string[] | undefined): boolean {
  if (states === undefined) return false;
  return o.tif === "GTC" ? states.length > 0 : states.some((s) => FINAL.has(s));
}

const FINAL = new Set(["FILLED", "CANCELLED", "EXPIRED", "REJECTED"]);

/** Checks every report of one consumer against its plan; returns the fills seen. */
function checkLoadReports(
  who: string,
  plan: PlannedOrder[],
  reports: WireMessage[],
  fills: Set<string>,
): { resting: number; ioc: Record<string, number> } {
  assertSeqContiguous(who, reports);
  const byId = new Map<string, WireMessage[]>();
  for (const r of reports) {
    assert.equal(r.consumer_id, who);
    const id = String(r.client_order_id);
    const list = byId.get(id) ?? [];
    list.push(r);
    byId.set(id, list);
  }
  assert.equal(byId.size, plan.length, `${who}: reports for every order and no other`);
  let resting = 0;
  const ioc: Record<string, number> = {};
  for (const o of plan) {
    const rs = byId.get(o.clientOrderId);
    assert.ok(rs !== undefined, `${who}: reports of ${o.clientOrderId}`);
    const states = rs.map((r) => r.state as string);
    for (const r of rs) {
      assert.equal(r.provider, o.provider);
      assert.equal(r.symbol, o.symbol);
      assert.equal(dec(r.qty), dec(o.qty));
    }
    if (o.tif === "GTC") {
      assert.deepEqual(states, ["ACK"], `${who} ${o.clientOrderId}: exactly one ACK`);
      resting++;
      continue;
    }
    assert.equal(states[0], "ACK", `${who} ${o.clientOrderId}: ACK first, found ${states}`);
    const finals = states.filter((s) => FINAL.has(s));
    assert.equal(finals.length, 1, `${who} ${o.clientOrderId}: one final state, found ${states}`);
    assert.ok(FINAL.has(states.at(-1)!), `${who} ${o.clientOrderId}: final last, found ${states}`);
    assert.ok(
      states.slice(1, -1).every((s) => s === "PARTIAL"),
      `${who} ${o.clientOrderId}: only PARTIAL between, found ${states}`,
    );
    assert.notEqual(states.at(-1), "REJECTED", `${who} ${o.clientOrderId}: ${JSON.stringify(rs)}`);
    const withFill = rs.filter((r) =>
      r.state === "PARTIAL" || r.state === "FILLED" ||
      (r.last_qty !== "" && dec(r.last_qty) !== "0")
    );
    for (const [k, r] of withFill.entries()) {
      assert.equal(
        dec(r.cum_qty),
        decSum(withFill.slice(0, k + 1).map((x) => x.last_qty)),
        `${who} ${o.clientOrderId}: cum_qty is the sum of last_qty`,
      );
      const trade = String(r.exchange_trade_id);
      if (trade !== "") {
        const key = `${o.provider}:${trade}`;
        assert.ok(!fills.has(key), `${key} reported once`);
        fills.add(key);
      }
    }
    const last = rs.at(-1)!;
    if (last.state === "FILLED") assert.equal(dec(last.cum_qty), dec(o.qty));
    ioc[String(last.state)] = (ioc[String(last.state)] ?? 0) + 1;
  }
  return { resting, ioc };
}

Deno.test("10 000 orders under market-data load with one slow consumer: every report delivered once, in order", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "switchyard-orders-e2e-" });
  const h = await startGateway([
    "--data-dir",
    dataDir,
    "--sim-rate",
    "2000",
    // A small order-request pool: retries of refused ids are part of what is checked.
    "--pool-capacity",
    "OrderRequest=20",
  ], {
    // A low high-water mark, so the stalled reader pauses its session once the kernel's socket
    // buffers are full, on machines with large ones too.
    highWaterBytes: 512 * 1024,
    lowWaterBytes: 128 * 1024,
  });
  const { base, address, sims } = h;
  let fast: TraderClient | null = null;
  let raw: RawWsClient | null = null;
  let unsubscribeTelemetry = () => {};
  try {
    await waitLive(h);
    for (const id of ["strat-a", "strat-b"]) {
      const put = await api("PUT", `${base}/v1/trading/${id}`, {
        token: TOKEN_ADMIN,
        body: { enabled: true },
      });
      assert.equal(put.status, 200);
    }
    fast = await TraderClient.connect(address, { consumerId: "strat-a", token: TOKEN_A });
    raw = await RawWsClient.connect(
      address.port,
      `/v1/stream?consumer=strat-b&token=${TOKEN_B}&exec_seq=0`,
    );
    const slow = new SlowTrader(raw);
    const f = fast;
    let slowPauses = 0;
    unsubscribeTelemetry = h.gw.telemetry.subscribe((e) => {
      if (e.type === "consumer.slow" && e.consumer === "strat-b") slowPauses++;
    });

    // Market data on both: trades and book updates of every book.
    let sub = 0;
    const slowSubs: string[] = [];
    for (const provider of PROVIDERS) {
      for (const symbol of ["BTC-USDT", "ETH-USDT"]) {
        for (const kind of ["trade", "book_update", "book_snapshot"]) {
          const cmd = { v: 1, type: "subscribe", provider, symbol, kind };
          const ack = await f.request({ ...cmd, req_id: `sub-${++sub}` });
          assert.equal(ack.ok, true, JSON.stringify(ack));
          const reqId = `sub-${++sub}`;
          slowSubs.push(reqId);
          await raw.sendText(JSON.stringify({ ...cmd, req_id: reqId }));
        }
      }
    }
    await raw.readUntil("subscribe acks", () => {
      slow.take();
      return slowSubs.every((r) => slow.acks.has(r));
    }, 10_000);
    assert.ok(slowSubs.every((r) => slow.acks.get(r)!.ok === true));

    const books = (await (await fetch(`${base}/v1/books`)).json()).books as {
      provider: string;
      symbol: string;
      bestAsk: string;
    }[];
    const asks = new Map(books.map((b) => [`${b.provider}:${b.symbol}`, Number(b.bestAsk)]));
    const plan = planLoad(asks);
    const fastPlan = plan.filter((o) => o.consumer === "strat-a");
    const slowPlan = plan.filter((o) => o.consumer === "strat-b");
    const started = performance.now();
    const deadline = started + LOAD_DEADLINE_MS;

    // The fast consumer: at most FAST_WINDOW orders without an answer; a busy or venue_unavailable
    // refusal (no free request slot) is retried with the same client order id.
    const fastTally: LoadTally = { retries: 0, accepted: 0 };
    const fastRun = (async () => {
      const reqOf = new Map<string, PlannedOrder>();
      const answered = new Set<string>(); // req ids whose ack was handled
      const firstReport = new Set<string>();
      let reportsSeen = 0;
      let next = 0;
      let outstanding = 0;
      const retry: PlannedOrder[] = [];
      let req = 0;
      while (fastTally.accepted < fastPlan.length || outstanding > 0) {
        assert.ok(performance.now() < deadline, "fast consumer within the deadline");
        for (; reportsSeen < f.reports.length; reportsSeen++) {
          const id = String(f.reports[reportsSeen].client_order_id);
          if (!firstReport.has(id)) {
            firstReport.add(id);
            outstanding--;
          }
        }
        for (const [r, o] of reqOf) {
          const ack = f.acks.get(r);
          if (ack === undefined || answered.has(r)) continue;
          answered.add(r);
          reqOf.delete(r);
          if (ack.ok === true) {
            fastTally.accepted++;
            continue;
          }
          assert.ok(
            RETRIABLE.includes((ack.error as { code: string }).code),
            `${o.clientOrderId}: ${JSON.stringify(ack)}`,
          );
          outstanding--;
          fastTally.retries++;
          retry.push(o);
        }
        while (outstanding < FAST_WINDOW && (retry.length > 0 || next < fastPlan.length)) {
          const o = retry.shift() ?? fastPlan[next++];
          const r = `fa-r${++req}`;
          reqOf.set(r, o);
          outstanding++;
          f.send(loadCmd(r, o));
        }
        await sleep(2);
      }
    })();

    // The slow consumer: a batch per round, then a short read and a pause; refusals are
    // retried with the same client order id once it has read them.
    const slowTally: LoadTally = { retries: 0, accepted: 0 };
    const slowRun = (async () => {
      const reqOf = new Map<string, PlannedOrder>();
      const retry: PlannedOrder[] = [];
      let next = 0;
      let req = 0;
      while (next < slowPlan.length || retry.length > 0 || reqOf.size > 0) {
        assert.ok(performance.now() < deadline, "slow consumer within the deadline");
        for (let k = 0; k < SLOW_BATCH && (retry.length > 0 || next < slowPlan.length); k++) {
          const o = retry.shift() ?? slowPlan[next++];
          const r = `sl-r${++req}`;
          reqOf.set(r, o);
          await raw!.sendText(JSON.stringify(loadCmd(r, o)));
        }
        // Submitting done: read at full speed, only the acks are missing.
        const sending = next < slowPlan.length || retry.length > 0;
        // Nothing at all until the gateway paused its session (bounded well inside the 30 s
        // after which it would close a consumer stuck above the high-water mark), then a
        // trickle.
        const elapsedMs = performance.now() - started;
        const budget = elapsedMs / 1000 * SLOW_READ_BYTES_PER_S;
        const stalled = slowPauses === 0 && elapsedMs < SLOW_STALL_MS_MAX;
        if (!sending) await slow.readSome(1024 * 1024, 200);
        else if (!stalled && raw!.bytesRead < budget) await slow.readSome(1, 5);
        for (const [r, o] of reqOf) {
          const ack = slow.acks.get(r);
          if (ack === undefined) continue;
          reqOf.delete(r);
          if (ack.ok === true) {
            slowTally.accepted++;
            continue;
          }
          assert.ok(
            RETRIABLE.includes((ack.error as { code: string }).code),
            `${o.clientOrderId}: ${JSON.stringify(ack)}`,
          );
          slowTally.retries++;
          retry.push(o);
        }
        if (sending) await sleep(SLOW_PAUSE_MS);
      }
    })();
    await Promise.all([fastRun, slowRun]);
    const submittedMs = performance.now() - started;
    assert.equal(fastTally.accepted, fastPlan.length);
    assert.equal(slowTally.accepted, slowPlan.length);

    // Every order's reports, on both consumers. The slow one reads on (sending a harmless
    // command now and then: the gateway closes connections silent for 30 s).
    const fastById = new Map<string, string[]>();
    let fastTaken = 0;
    const slowById = new Map<string, string[]>();
    let slowTaken = 0;
    const index = (rs: WireMessage[], from: number, into: Map<string, string[]>): number => {
      for (; from < rs.length; from++) {
        const id = String(rs[from].client_order_id);
        const list = into.get(id) ?? [];
        list.push(String(rs[from].state));
        into.set(id, list);
      }
      return from;
    };
    let lastPing = performance.now();
    let pings = 0;
    for (;;) {
      fastTaken = index(f.reports, fastTaken, fastById);
      slowTaken = index(slow.reports, slowTaken, slowById);
      const fastDone = fastPlan.every((o) => complete(o, fastById.get(o.clientOrderId)));
      const slowDone = slowPlan.every((o) => complete(o, slowById.get(o.clientOrderId)));
      if (fastDone && slowDone) break;
      assert.ok(performance.now() < deadline, "every report within the deadline");
      if (performance.now() - lastPing > 5000) {
        lastPing = performance.now();
        await raw.sendText(JSON.stringify({
          v: 1,
          type: "order_cancel",
          req_id: `keepalive-${++pings}`,
          client_order_id: "no-such-order",
          provider: "binance",
          symbol: "BTC-USDT",
        }));
      }
      await slow.readSome(1024 * 1024, 50);
    }
    const deliveredMs = performance.now() - started;
    // Anything extra (a duplicate, a late second final state) would arrive now.
    const settleUntil = performance.now() + 1000;
    while (performance.now() < settleUntil) await slow.readSome(1024 * 1024, 50);

    const fills = new Set<string>();
    const fastCheck = checkLoadReports("strat-a", fastPlan, f.reports, fills);
    const slowCheck = checkLoadReports("strat-b", slowPlan, slow.reports, fills);
    for (let k = 1; k <= pings; k++) {
      assert.equal(
        (slow.acks.get(`keepalive-${k}`)!.error as { code: string }).code,
        "unknown_order",
      );
    }
    // Every order reached its exchange exactly once.
    let placed = 0;
    for (const p of PROVIDERS) {
      const stats = sims[p].stats();
      placed += stats.place_requests;
      const counts = Object.values(stats.place_requests_by_client_id);
      assert.equal(counts.length, stats.place_requests, `${p}: one place request per venue id`);
      assert.ok(counts.every((c) => c === 1), `${p}: no venue client id sent twice`);
    }
    assert.equal(placed, LOAD_ORDERS);
    assert.equal(f.ackCount, f.acks.size, "strat-a: one ack per command");

    const consumerStats = await api("GET", `${base}/v1/consumers/strat-b`);
    const fastEvents = f.eventCount;
    console.log(
      `  ${LOAD_ORDERS} orders: submitted in ${(submittedMs / 1000).toFixed(1)} s, all reports in ${
        (deliveredMs / 1000).toFixed(1)
      } s; retried (no free request slot): fast ${fastTally.retries}, slow ${slowTally.retries}`,
    );
    console.log(
      `  reports: fast ${f.reports.length} (resting ${fastCheck.resting}, IOC ${
        JSON.stringify(fastCheck.ioc)
      }), slow ${slow.reports.length} (resting ${slowCheck.resting}, IOC ${
        JSON.stringify(slowCheck.ioc)
      }); fills ${fills.size}`,
    );
    console.log(
      `  market events: fast ${fastEvents}, slow ${slow.events} (read ${
        (raw.bytesRead / 1e6).toFixed(1)
      } MB); the slow consumer's session paused ${slowPauses} times (consumer.slow); its stats ${
        JSON.stringify(consumerStats.body.stats ?? consumerStats.body)
      }`,
    );
    assert.ok(fastEvents > 0 && slow.events > 0, "market data flowed to both");
    assert.ok(slowPauses >= 1, "the slow consumer's send buffer passed the high-water mark");
  } finally {
    unsubscribeTelemetry();
    await fast?.close();
    raw?.close();
    await h.close();
    await Deno.remove(dataDir, { recursive: true });
  }
  assert.equal(h.gw.poolManager.totalInFlight(), 0);
});
