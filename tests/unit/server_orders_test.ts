import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import {
  type AckMessage,
  controlFromWire,
  controlToWire,
  type OrderCancelCommand,
  type OrderSubmitCommand,
} from "../../src/schema/mod.ts";
import {
  applyCommand,
  bearerToken,
  constantTimeEqual,
  ConsumerAuth,
  type GatewayStatus,
  handleCommandText,
  handleCommandValue,
  handleRequest,
  type OrderCaller,
  type OrderCommandContext,
  OrderControl,
  type OrderDesk,
  type OrderOutcome,
  type SessionSocket,
  sha256Hex,
  startHttpServer,
  StreamServer,
} from "../../src/server/mod.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

const TOKEN_A = "tok-A-0123456789abcdef";
const TOKEN_B = "tok-B-0123456789abcdef";
const ADMIN = "adm-0123456789abcdef-admin";

const SUBMIT = {
  v: 1,
  type: "order_submit",
  req_id: "o1",
  client_order_id: "order0001",
  provider: "binance",
  symbol: "BTC-USDT",
  side: "buy",
  order_type: "limit",
  price: "60000",
  qty: "0.01",
};
const CANCEL = {
  v: 1,
  type: "order_cancel",
  req_id: "o2",
  client_order_id: "order0001",
  provider: "binance",
  symbol: "BTC-USDT",
};

/** An order desk that records its calls and answers what the test set. */
class FakeDesk implements OrderDesk {
  readonly submits: { cmd: OrderSubmitCommand; ctx: OrderCommandContext }[] = [];
  readonly cancels: { cmd: OrderCancelCommand; ctx: OrderCommandContext }[] = [];
  readonly listed: { consumerId: string; limit: number }[] = [];
  readonly switches = new Map<string, boolean>();
  answer: OrderOutcome = { ok: true };
  throws: Error | null = null;

  submit(cmd: OrderSubmitCommand, ctx: OrderCommandContext): OrderOutcome {
    if (this.throws !== null) throw this.throws;
    this.submits.push({ cmd, ctx });
    return this.answer;
  }
  cancel(cmd: OrderCancelCommand, ctx: OrderCommandContext): OrderOutcome {
    this.cancels.push({ cmd, ctx });
    return this.answer;
  }
  setTrading(consumerId: string, enabled: boolean): void {
    this.switches.set(consumerId, enabled);
  }
  tradingEnabled(consumerId: string): boolean {
    return this.switches.get(consumerId) ?? true;
  }
  orders(consumerId: string, limit: number): unknown[] {
    this.listed.push({ consumerId, limit });
    return [{ client_order_id: "order0001", state: "ACK" }];
  }
}

class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: string[] = [];
  send(data: string): void {
    this.frames.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  acks(): Record<string, unknown>[] {
    return this.frames.map((f) => JSON.parse(f)).filter((m) => m.type === "ack");
  }
}

function auth(): ConsumerAuth {
  return ConsumerAuth.fromTokens({
    traders: { "trader-a": TOKEN_A, "trader-b": TOKEN_B },
    adminToken: ADMIN,
  });
}

function plane(opts?: { desk?: FakeDesk | null; metrics?: MetricsRegistry }) {
  const desk = opts?.desk === null ? undefined : (opts?.desk ?? new FakeDesk());
  const deskErrors: unknown[] = [];
  const control = new OrderControl({
    desk,
    auth: auth(),
    metrics: opts?.metrics,
    onDeskError: (err) => deskErrors.push(err),
  });
  return { desk: desk as FakeDesk, control, deskErrors };
}

function consumer(): Consumer {
  const registry = new ConsumerRegistry({ routes: new RoutingTable() });
  return registry.create("trader-a");
}

function caller(control: OrderControl, role: OrderCaller["role"] = "owner"): OrderCaller {
  return { control, consumerId: "trader-a", role, surface: "ws" };
}

/** The ack is valid wire format (what a client parses). */
function wireAck(outcome: { ack: AckMessage }) {
  return controlFromWire(JSON.parse(JSON.stringify(controlToWire(outcome.ack))));
}

Deno.test("order commands: an authenticated consumer submits and cancels through the desk", () => {
  const { desk, control } = plane();
  const c = consumer();
  const sub = handleCommandValue(SUBMIT, c, { orders: caller(control) });
  assert.equal(sub.status, "applied");
  assert.equal(sub.orderOutcome, "ok");
  assert.deepEqual(sub.ack, { type: "ack", reqId: "o1", ok: true });
  assert.equal(desk.submits.length, 1);
  assert.equal(desk.submits[0].cmd.clientOrderId, "order0001");
  assert.equal(desk.submits[0].ctx.consumerId, "trader-a");
  assert.ok(desk.submits[0].ctx.traceId.length > 0, "a trace id is given");
  const can = handleCommandText(JSON.stringify(CANCEL), c, { orders: caller(control) });
  assert.equal(can.status, "applied");
  assert.deepEqual(can.ack, { type: "ack", reqId: "o2", ok: true });
  assert.equal(desk.cancels[0].cmd.type, "order_cancel");
  assert.notEqual(desk.cancels[0].ctx.traceId, desk.submits[0].ctx.traceId);
  c.close();
});

Deno.test("order commands: without the trading token they answer unauthorized", () => {
  const { desk, control } = plane();
  const c = consumer();
  for (const cmd of [SUBMIT, CANCEL]) {
    const out = handleCommandValue(cmd, c, { orders: caller(control, "none") });
    assert.equal(out.status, "refused");
    assert.equal(out.orderOutcome, "unauthorized");
    assert.equal(out.ack.error?.code, "unauthorized");
    assert.match(
      out.ack.error!.message,
      /^expected a consumer authenticated with its trading token/,
    );
    wireAck(out);
  }
  assert.equal(desk.submits.length + desk.cancels.length, 0, "nothing reached the desk");
  c.close();
});

Deno.test("order commands: the desk's refusals reach the ack", async (t) => {
  const { desk, control } = plane();
  const c = consumer();
  await t.step("trading_disabled", () => {
    desk.answer = {
      ok: false,
      code: "trading_disabled",
      message: 'expected trading enabled for consumer "trader-a", found it disabled',
    };
    const out = applyCommand(controlFromWire(SUBMIT) as OrderSubmitCommand, c, {
      orders: caller(control),
    });
    assert.equal(out.status, "refused");
    assert.equal(out.orderOutcome, "trading_disabled");
    assert.deepEqual(
      out.ack.error,
      desk.answer.ok ? undefined : {
        code: "trading_disabled",
        message: desk.answer.message,
      },
    );
  });
  await t.step("duplicate: the existing order is summarised in the message", () => {
    desk.answer = {
      ok: false,
      code: "duplicate_client_order_id",
      message: 'expected a new client_order_id, found "order0001" already used',
      existing: { client_order_id: "order0001", state: "PARTIAL", cum_qty: "0.004" },
    };
    const out = handleCommandValue(SUBMIT, c, { orders: caller(control) });
    assert.equal(out.orderOutcome, "duplicate");
    assert.equal(out.ack.error?.code, "duplicate_client_order_id");
    assert.match(out.ack.error!.message, /existing order: \{"client_order_id":"order0001"/);
    assert.match(out.ack.error!.message, /"cum_qty":"0\.004"/);
    wireAck(out);
  });
  await t.step("a huge existing order is cut to an ack's 1024 characters", () => {
    desk.answer = {
      ok: false,
      code: "duplicate_client_order_id",
      message: "dup",
      existing: { blob: "x".repeat(5000) },
    };
    const out = handleCommandValue(SUBMIT, c, { orders: caller(control) });
    assert.equal(out.ack.error!.message.length, 1024);
    wireAck(out);
  });
  await t.step("a desk that throws answers internal_error and is reported", () => {
    const p = plane();
    p.desk.throws = new Error("journal exploded");
    const out = handleCommandValue(SUBMIT, c, { orders: caller(p.control) });
    assert.equal(out.ack.error?.code, "internal_error");
    assert.equal(out.orderOutcome, "unavailable");
    assert.equal(p.deskErrors.length, 1);
    assert.doesNotMatch(out.ack.error!.message, /exploded/, "internals stay in the log");
  });
  c.close();
});

Deno.test("order commands: trading switch rules over the WebSocket", async (t) => {
  const { desk, control } = plane();
  const c = consumer();
  const trading = (consumerId: string, enabled: boolean, role: OrderCaller["role"] = "owner") =>
    handleCommandValue(
      { v: 1, type: "trading", req_id: "t1", consumer_id: consumerId, enabled },
      c,
      { orders: caller(control, role) },
    );
  await t.step("a consumer may disable its own trading", () => {
    const out = trading("trader-a", false);
    assert.equal(out.status, "applied");
    assert.equal(out.ack.ok, true);
    assert.equal(desk.switches.get("trader-a"), false);
  });
  await t.step("enabling is forbidden, with the way to do it", () => {
    const out = trading("trader-a", true);
    assert.equal(out.ack.error?.code, "forbidden");
    assert.equal(out.orderOutcome, "forbidden");
    assert.match(out.ack.error!.message, /admin token \(HTTP PUT \/v1\/trading\/trader-a\)/);
    assert.equal(desk.switches.get("trader-a"), false, "unchanged");
  });
  await t.step("another consumer's switch is forbidden", () => {
    const out = trading("trader-b", false);
    assert.equal(out.ack.error?.code, "forbidden");
    assert.match(out.ack.error!.message, /expected consumer_id "trader-a"/);
    assert.equal(desk.switches.has("trader-b"), false);
  });
  await t.step("a market-data consumer may not touch it at all", () => {
    assert.equal(trading("trader-a", false, "none").ack.error?.code, "unauthorized");
  });
  c.close();
});

Deno.test("order commands: without an order gateway they answer not_supported", () => {
  const c = consumer();
  const { control } = plane({ desk: null });
  const out = handleCommandValue(SUBMIT, c, { orders: caller(control) });
  assert.equal(out.status, "unsupported");
  assert.equal(out.ack.error?.code, "not_supported");
  assert.match(out.ack.error!.message, /found none configured/);
  // No order plane at all: as before.
  const bare = handleCommandValue(SUBMIT, c);
  assert.equal(bare.ack.error?.code, "not_supported");
  assert.equal(bare.orderOutcome, undefined);
  c.close();
});

function streamRig(withOrders = true) {
  const metrics = new MetricsRegistry();
  const p = plane({ metrics });
  const consumers = new ConsumerRegistry({ routes: new RoutingTable<Consumer>() });
  const server = new StreamServer({
    consumers,
    metrics,
    orders: withOrders ? p.control : undefined,
    limits: { pollIntervalMs: 1 },
  });
  return { ...p, server, consumers, metrics };
}

Deno.test("stream server: the trading token decides who trades", async (t) => {
  const r = streamRig();
  await t.step("good token: a trader whose orders reach the desk", () => {
    const ok = r.server.connect("trader-a", () => new FakeSocket(), { token: TOKEN_A });
    assert.ok(ok.ok);
    assert.equal(ok.session.trader, true);
    ok.session.open();
    ok.session.handleText(JSON.stringify(SUBMIT));
    assert.deepEqual(ok.socket.acks(), [{ v: 1, type: "ack", req_id: "o1", ok: true }]);
    assert.equal(r.desk.submits[0].ctx.consumerId, "trader-a");
    assert.equal(r.control.counts().ws.ok, 1);
  });
  await t.step("bad token, another's token, or no id: 401 without saying which", () => {
    for (
      const [id, token] of [
        ["trader-b", TOKEN_A],
        ["trader-b", "wrong-token-0000000000"],
        ["market-c", TOKEN_A],
        [null, TOKEN_B],
        ["trader-b", ""],
      ] as const
    ) {
      const refused = r.server.connect(id, () => new FakeSocket(), { token });
      assert.ok(!refused.ok, `${id}`);
      assert.equal(refused.status, 401);
      assert.equal(refused.reason, "unauthorized");
      assert.match(refused.message, /found a credential that does not$/);
      assert.ok(!refused.message.includes(TOKEN_A) && !refused.message.includes(TOKEN_B));
    }
    assert.equal(r.server.stats().connectionsRejected.unauthorized, 5);
    assert.equal(r.consumers.get("trader-b"), undefined, "no consumer was created");
  });
  await t.step("no token: a market-data consumer whose orders are unauthorized", () => {
    const md = r.server.connect("trader-b", () => new FakeSocket());
    assert.ok(md.ok);
    assert.equal(md.session.trader, false);
    md.session.open();
    md.session.handleText(JSON.stringify(SUBMIT));
    const [ack] = md.socket.acks();
    assert.equal((ack.error as { code: string }).code, "unauthorized");
    assert.equal(md.session.stats().refusedCommands, 1);
    assert.equal(r.control.counts().ws.unauthorized, 1);
  });
  await t.step("the metric family counts by surface and outcome", () => {
    const samples = parsePrometheusText(r.metrics.render());
    const value = (surface: string, outcome: string) =>
      samples.get(
        `switchyard_order_commands_total{surface="${surface}",outcome="${outcome}"}`,
      );
    assert.equal(value("ws", "ok"), 1);
    assert.equal(value("ws", "unauthorized"), 1);
    assert.equal(value("http", "ok"), 0);
    assert.equal(value("ws", "unauthorized_x"), undefined);
  });
  await r.server.close({ timeoutMs: 10 });
});

Deno.test("stream server: without an order plane every token is refused", async () => {
  const r = streamRig(false);
  const refused = r.server.connect("trader-a", () => new FakeSocket(), { token: TOKEN_A });
  assert.ok(!refused.ok);
  assert.equal(refused.status, 401);
  const plain = r.server.connect("trader-a", () => new FakeSocket());
  assert.ok(plain.ok);
  plain.session.open();
  plain.session.handleText(JSON.stringify(SUBMIT));
  assert.equal((plain.socket.acks()[0].error as { code: string }).code, "not_supported");
  await r.server.close({ timeoutMs: 10 });
});

Deno.test("stream server: upgrade() refuses a bad token with 401 before the handshake", async () => {
  const r = streamRig();
  const headers = { upgrade: "websocket", authorization: `Bearer ${TOKEN_B}` };
  const res = r.server.upgrade(
    new Request("http://127.0.0.1/v1/stream?consumer=trader-a", { headers }),
  );
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), "Bearer");
  const body = await res.json();
  assert.match(body.error, /^expected a trading token that authenticates the requested consumer/);
  // The header wins over the query parameter.
  const both = r.server.upgrade(
    new Request(`http://127.0.0.1/v1/stream?consumer=trader-a&token=${TOKEN_A}`, { headers }),
  );
  assert.equal(both.status, 401);
  await both.body?.cancel();
  const query = r.server.upgrade(
    new Request("http://127.0.0.1/v1/stream?consumer=trader-a&token=nope-nope-nope-nope", {
      headers: { upgrade: "websocket" },
    }),
  );
  assert.equal(query.status, 401);
  await query.body?.cancel();
  const notBearer = r.server.upgrade(
    new Request("http://127.0.0.1/v1/stream?consumer=trader-a", {
      headers: { upgrade: "websocket", authorization: `Basic ${TOKEN_A}` },
    }),
  );
  assert.equal(notBearer.status, 401, "a credential that is not Bearer is refused");
  await notBearer.body?.cancel();
  await r.server.close({ timeoutMs: 10 });
});

/** Opens a real WebSocket and waits for it to open, or for its failure. */
function openSocket(url: string, headers?: Record<string, string>): Promise<WebSocket> {
  // Deno's client takes headers as a non-standard second argument.
  const ws = new WebSocket(url, { headers } as unknown as string[]);
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`could not open ${url}`));
  });
}

function nextAck(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === "ack") resolve(msg);
    };
  });
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.onclose = () => resolve();
    ws.close(1000);
  });
}

Deno.test("stream server: a real upgrade with the token in the header or the query trades", async () => {
  const r = streamRig();
  const http = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    status: minimalStatus(r.metrics),
    stream: r.server,
    orders: r.control,
  });
  const base = `ws://127.0.0.1:${http.port}/v1/stream`;
  try {
    const a = await openSocket(`${base}?consumer=trader-a`, {
      authorization: `Bearer ${TOKEN_A}`,
    });
    const ackA = nextAck(a);
    a.send(JSON.stringify(SUBMIT));
    assert.deepEqual(await ackA, { v: 1, type: "ack", req_id: "o1", ok: true });
    await closeSocket(a);

    const b = await openSocket(`${base}?consumer=trader-b&token=${encodeURIComponent(TOKEN_B)}`);
    const ackB = nextAck(b);
    b.send(JSON.stringify({ ...SUBMIT, req_id: "o9" }));
    assert.equal((await ackB).ok, true);
    await closeSocket(b);
    assert.deepEqual(r.desk.submits.map((s) => s.ctx.consumerId), ["trader-a", "trader-b"]);

    await assert.rejects(openSocket(`${base}?consumer=trader-a&token=${TOKEN_B}`));
    assert.equal(r.server.stats().connectionsRejected.unauthorized, 1);
  } finally {
    await http.shutdown();
  }
});

function minimalStatus(metrics: MetricsRegistry): GatewayStatus {
  return {
    ready: () => true,
    notReadyReason: () => "",
    pools: () => [],
    codec: () => ({}),
    metrics,
  };
}

function httpRig(opts?: { desk?: FakeDesk | null }) {
  const metrics = new MetricsRegistry();
  const p = plane({ desk: opts?.desk, metrics });
  const status = minimalStatus(metrics);
  const call = (
    method: string,
    path: string,
    init?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ) => {
    const headers: Record<string, string> = { ...init?.headers };
    if (init?.token !== undefined) headers.authorization = `Bearer ${init.token}`;
    const body = init?.body === undefined
      ? undefined
      : typeof init.body === "string"
      ? init.body
      : JSON.stringify(init.body);
    return handleRequest(
      new Request(`http://127.0.0.1${path}`, { method, body, headers }),
      status,
      { orders: p.control, bodyBytesMax: 4096 },
    );
  };
  return { ...p, metrics, call };
}

const ORDER_FIELDS = {
  client_order_id: "order0001",
  provider: "binance",
  symbol: "BTC-USDT",
  side: "buy",
  order_type: "limit",
  price: "60000",
  qty: "0.01",
};

Deno.test("http orders: tokens decide 401, 403 and 200", async (t) => {
  const r = httpRig();
  const path = "/v1/consumers/trader-a/orders";
  await t.step("no token: 401 unauthorized with www-authenticate", async () => {
    const res = await r.call("POST", path, { body: ORDER_FIELDS });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
    const ack = await res.json();
    assert.equal(ack.error.code, "unauthorized");
    assert.match(ack.error.message, /found no Authorization header/);
    controlFromWire(ack);
  });
  await t.step("a wrong token, or another consumer's: 401", async () => {
    for (const token of ["not-the-token-at-all", TOKEN_B]) {
      const res = await r.call("POST", path, { token, body: ORDER_FIELDS });
      assert.equal(res.status, 401);
      const ack = await res.json();
      assert.match(ack.error.message, /found a credential that is not$/);
    }
    const basic = await r.call("POST", path, {
      headers: { authorization: `Basic ${TOKEN_A}` },
      body: ORDER_FIELDS,
    });
    assert.equal(basic.status, 401);
    await basic.body?.cancel();
  });
  await t.step("the admin token may not trade for a consumer: 403", async () => {
    const res = await r.call("POST", path, { token: ADMIN, body: ORDER_FIELDS });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "forbidden");
  });
  await t.step("the consumer's own token: 200, the consumer need not be connected", async () => {
    const res = await r.call("POST", path, { token: TOKEN_A, body: ORDER_FIELDS });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { v: 1, type: "ack", req_id: "http", ok: true });
    assert.equal(r.desk.submits.length, 1);
    assert.equal(r.desk.submits[0].ctx.consumerId, "trader-a");
    const cancel = await r.call("POST", `${path}/cancel`, {
      token: TOKEN_A,
      body: { req_id: "c1", client_order_id: "order0001", provider: "binance", symbol: "BTC-USDT" },
    });
    assert.equal(cancel.status, 200);
    assert.equal((await cancel.json()).req_id, "c1");
    assert.equal(r.desk.cancels.length, 1);
  });
  await t.step("invalid bodies: 400, after the token check", async () => {
    const cases: [unknown, string][] = [
      [{ ...ORDER_FIELDS, price: "-1" }, "invalid_field"],
      [{ ...ORDER_FIELDS, timeInForce: "GTC" }, "unknown_field"],
      [{ ...ORDER_FIELDS, type: "order_cancel" }, "invalid_field"],
      ["[1]", "not_an_object"],
      ["{", "invalid_json"],
    ];
    for (const [body, code] of cases) {
      const res = await r.call("POST", path, { token: TOKEN_A, body });
      assert.equal(res.status, 400, code);
      assert.equal((await res.json()).error.code, code);
    }
    const big = await r.call("POST", path, { token: TOKEN_A, body: "x".repeat(5000) });
    assert.equal(big.status, 413);
    await big.body?.cancel();
  });
  await t.step("outcomes are counted for the http surface", () => {
    const http = r.control.counts().http;
    assert.equal(http.unauthorized, 4);
    assert.equal(http.forbidden, 1);
    assert.equal(http.ok, 2);
    assert.equal(http.invalid, 6);
  });
});

Deno.test("http orders: desk refusals map to 409, 403, 404 and 503", async () => {
  const r = httpRig();
  const post = (body: unknown, sub = "") =>
    r.call("POST", `/v1/consumers/trader-a/orders${sub}`, { token: TOKEN_A, body });
  const cases: [OrderOutcome, number][] = [
    [{
      ok: false,
      code: "duplicate_client_order_id",
      message: "expected a new client_order_id, found order0001 in use",
      existing: { client_order_id: "order0001", state: "ACK" },
    }, 409],
    [{ ok: false, code: "trading_disabled", message: "expected trading enabled" }, 403],
    [{ ok: false, code: "venue_unavailable", message: "expected binance connected" }, 503],
    [{ ok: false, code: "invalid_order", message: "expected price on the tick" }, 400],
  ];
  for (const [answer, status] of cases) {
    r.desk.answer = answer;
    const res = await post(ORDER_FIELDS);
    assert.equal(res.status, status, answer.ok ? "ok" : answer.code);
    const ack = await res.json();
    assert.equal(ack.error.code, answer.ok ? "" : answer.code);
    controlFromWire(ack);
  }
  r.desk.answer = { ok: false, code: "unknown_order", message: "expected an order of yours" };
  const res = await post(
    { client_order_id: "nope", provider: "binance", symbol: "BTC-USDT" },
    "/cancel",
  );
  assert.equal(res.status, 404);
  await res.body?.cancel();
  const counts = r.control.counts().http;
  assert.equal(counts.duplicate, 1);
  assert.equal(counts.trading_disabled, 1);
  assert.equal(counts.unavailable, 1);
  assert.equal(counts.refused, 2);
});

Deno.test("http orders: the order list needs the consumer's token or the admin's", async () => {
  const r = httpRig();
  const path = "/v1/consumers/trader-a/orders";
  assert.equal((await (await r.call("GET", path)).json()).error.length > 0, true);
  assert.equal((await r.call("GET", path, { token: TOKEN_B })).status, 401);
  const own = await r.call("GET", `${path}?limit=5`, { token: TOKEN_A });
  assert.equal(own.status, 200);
  assert.deepEqual(await own.json(), {
    consumer_id: "trader-a",
    orders: [{ client_order_id: "order0001", state: "ACK" }],
  });
  const admin = await r.call("GET", path, { token: ADMIN });
  assert.equal(admin.status, 200);
  await admin.body?.cancel();
  assert.deepEqual(r.desk.listed, [
    { consumerId: "trader-a", limit: 5 },
    { consumerId: "trader-a", limit: 100 },
  ]);
  for (const q of ["limit=0", "limit=1001", "limit=x", "limit=1&limit=2", "lim=3"]) {
    const bad = await r.call("GET", `${path}?${q}`, { token: TOKEN_A });
    assert.equal(bad.status, 400, q);
    await bad.body?.cancel();
  }
  const put = await r.call("PUT", path, { token: TOKEN_A, body: {} });
  assert.equal(put.status, 405);
  await put.body?.cancel();
});

Deno.test("http trading: admin sets it, the consumer's token may only disable", async (t) => {
  const r = httpRig();
  const path = "/v1/trading/trader-a";
  await t.step("GET with the admin or own token", async () => {
    const res = await r.call("GET", path, { token: ADMIN });
    assert.deepEqual(await res.json(), { consumer_id: "trader-a", enabled: true });
    assert.equal((await r.call("GET", path, { token: TOKEN_A })).status, 200);
    assert.equal((await r.call("GET", path, { token: TOKEN_B })).status, 401);
    assert.equal((await r.call("GET", path)).status, 401);
  });
  await t.step("own token disables (200) but may not enable (403)", async () => {
    const off = await r.call("PUT", path, { token: TOKEN_A, body: { enabled: false } });
    assert.equal(off.status, 200);
    assert.deepEqual(await off.json(), { v: 1, type: "ack", req_id: "http", ok: true });
    assert.equal(r.desk.switches.get("trader-a"), false);
    const on = await r.call("PUT", path, { token: TOKEN_A, body: { enabled: true } });
    assert.equal(on.status, 403);
    assert.equal((await on.json()).error.code, "forbidden");
    assert.equal(r.desk.switches.get("trader-a"), false);
  });
  await t.step("another consumer's token: 401; no token: 401", async () => {
    const res = await r.call("PUT", path, { token: TOKEN_B, body: { enabled: false } });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });
  await t.step("the admin token enables", async () => {
    const res = await r.call("PUT", path, { token: ADMIN, body: { enabled: true, req_id: "a1" } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).req_id, "a1");
    assert.equal(r.desk.switches.get("trader-a"), true);
  });
  await t.step("a body naming another consumer or lacking enabled: 400", async () => {
    const other = await r.call("PUT", path, {
      token: ADMIN,
      body: { enabled: true, consumer_id: "trader-b" },
    });
    assert.equal(other.status, 400);
    assert.match((await other.json()).error.message, /expected consumer_id "trader-a"/);
    const missing = await r.call("PUT", path, { token: ADMIN, body: {} });
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).error.code, "missing_field");
  });
});

Deno.test("http orders: without an order gateway every order route answers 503", async () => {
  const r = httpRig({ desk: null });
  const post = await r.call("POST", "/v1/consumers/trader-a/orders", {
    token: TOKEN_A,
    body: ORDER_FIELDS,
  });
  assert.equal(post.status, 503);
  assert.equal((await post.json()).error.code, "not_supported");
  for (const path of ["/v1/consumers/trader-a/orders", "/v1/trading/trader-a"]) {
    const res = await r.call("GET", path, { token: ADMIN });
    assert.equal(res.status, 503);
    await res.body?.cancel();
  }
  // No order plane wired at all: the same.
  const bare = await handleRequest(
    new Request("http://127.0.0.1/v1/trading/trader-a", {
      method: "PUT",
      body: "{}",
      headers: { authorization: `Bearer ${ADMIN}` },
    }),
    minimalStatus(new MetricsRegistry()),
  );
  assert.equal(bare.status, 503);
  await bare.body?.cancel();
});

Deno.test("auth: constant-time compare, digests, bearer parsing", async (t) => {
  await t.step("constantTimeEqual", () => {
    const a = new Uint8Array([1, 2, 3]);
    assert.equal(constantTimeEqual(a, new Uint8Array([1, 2, 3])), true);
    assert.equal(constantTimeEqual(a, new Uint8Array([1, 2, 4])), false);
    assert.equal(constantTimeEqual(a, new Uint8Array([1, 2])), false);
    assert.equal(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)), true);
  });
  await t.step("sha256Hex matches the FIPS 180-2 vector", () => {
    assert.equal(
      sha256Hex("abc"),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
  await t.step("bearerToken", () => {
    assert.equal(bearerToken(new Headers()), null);
    assert.equal(bearerToken(new Headers({ authorization: "Bearer abc" })), "abc");
    assert.equal(bearerToken(new Headers({ authorization: "bearer  abc " })), "abc");
    assert.equal(bearerToken(new Headers({ authorization: "Basic abc" })), "");
    assert.equal(bearerToken(new Headers({ authorization: "Bearer a b" })), "");
  });
  await t.step("roles", () => {
    const a = auth();
    assert.equal(a.role("trader-a", null), "none");
    assert.equal(a.role("trader-a", TOKEN_A), "owner");
    assert.equal(a.role("trader-a", TOKEN_B), "invalid");
    assert.equal(a.role("trader-a", ADMIN), "admin");
    assert.equal(a.role("nobody", TOKEN_A), "invalid");
    assert.equal(a.role("trader-a", ""), "invalid");
    assert.equal(new ConsumerAuth().role("trader-a", TOKEN_A), "invalid");
    assert.equal(new ConsumerAuth().isAdmin(""), false);
  });
  await t.step("digests from the config: case ignored, bad ones refused without echo", () => {
    const upper = new ConsumerAuth({
      traders: { "trader-a": { tokenSha256: sha256Hex(TOKEN_A).toUpperCase() } },
    });
    assert.equal(upper.isTrader("trader-a", TOKEN_A), true);
    assert.throws(
      () => new ConsumerAuth({ traders: { "trader-a": { tokenSha256: "abc123" } } }),
      /traders\["trader-a"\]\.tokenSha256: expected a SHA-256 digest of 64 hex digits, found 6 characters/,
    );
    assert.throws(
      () => new ConsumerAuth({ traders: { "bad id": { tokenSha256: sha256Hex("x") } } }),
      /expected consumer ids/,
    );
  });
});

Deno.test("auth: no token appears in anything the server writes", async () => {
  const seen: string[] = [];
  const r = httpRig();
  const a = r.control.auth;
  seen.push(JSON.stringify(a), Deno.inspect(a, { depth: 10 }), String(a));
  for (const token of [TOKEN_A, TOKEN_B, ADMIN, "some-wrong-token-123456"]) {
    for (
      const [method, path] of [
        ["POST", "/v1/consumers/trader-a/orders"],
        ["GET", "/v1/consumers/trader-a/orders"],
        ["PUT", "/v1/trading/trader-a"],
        ["GET", "/v1/trading/trader-b"],
      ]
    ) {
      const res = await r.call(method, path, { token, body: method === "GET" ? undefined : "{}" });
      seen.push(await res.text(), JSON.stringify([...res.headers]));
    }
  }
  const s = streamRig();
  for (const token of [TOKEN_A, "some-wrong-token-123456"]) {
    const out = s.server.connect("trader-b", () => new FakeSocket(), { token });
    if (!out.ok) seen.push(out.message);
  }
  const res = s.server.upgrade(
    new Request(`http://127.0.0.1/v1/stream?consumer=trader-b&token=${TOKEN_A}`, {
      headers: { upgrade: "websocket" },
    }),
  );
  seen.push(await res.text());
  seen.push(JSON.stringify(s.server.stats()), r.metrics.render(), s.metrics.render());
  const all = seen.join("\n");
  for (const token of [TOKEN_A, TOKEN_B, ADMIN]) {
    assert.ok(!all.includes(token), "a token leaked into the output");
    assert.ok(!all.includes(sha256Hex(token)), "a digest leaked into the output");
  }
  await s.server.close({ timeoutMs: 10 });
});
