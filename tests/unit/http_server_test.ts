import assert from "node:assert/strict";
import {
  type GatewayStatus,
  handleRequest,
  startHttpServer,
} from "../../src/server/http_server.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

function status(ready: boolean): GatewayStatus {
  const metrics = new MetricsRegistry();
  metrics.gauge("sy_up", "up").labels().set(1);
  return {
    ready: () => ready,
    notReadyReason: () => "self-check failed: x",
    pools: () => [{ name: "WsFrame", inFlight: 0 }],
    codec: () => ({ summary: "v8-json" }),
    metrics,
  };
}

const get = (path: string) => new Request(`http://127.0.0.1${path}`);

Deno.test("http routes: health, readiness, metrics, pools, codec, errors", async () => {
  assert.equal((await handleRequest(get("/healthz"), status(false))).status, 200);
  const notReady = await handleRequest(get("/readyz"), status(false));
  assert.equal(notReady.status, 503);
  assert.equal((await notReady.json()).reason, "self-check failed: x");
  assert.equal((await handleRequest(get("/readyz"), status(true))).status, 200);
  const m = await handleRequest(get("/metrics"), status(true));
  assert.match(m.headers.get("content-type")!, /text\/plain; version=0\.0\.4/);
  assert.equal(parsePrometheusText(await m.text()).get("sy_up"), 1);
  assert.deepEqual(await (await handleRequest(get("/v1/pools"), status(true))).json(), {
    pools: [{ name: "WsFrame", inFlight: 0 }],
  });
  assert.deepEqual(await (await handleRequest(get("/v1/codec"), status(true))).json(), {
    summary: "v8-json",
  });
  const nf = await handleRequest(get("/nope"), status(true));
  assert.equal(nf.status, 404);
  assert.match((await nf.json()).error, /no route \/nope, expected one of/);
  const post = await handleRequest(
    new Request("http://127.0.0.1/healthz", { method: "POST" }),
    status(true),
  );
  assert.equal(post.status, 405);
  await post.body?.cancel();
});

Deno.test("http server listens on a free loopback port and shuts down", async () => {
  const srv = await startHttpServer({ host: "127.0.0.1", port: 0, status: status(true) });
  try {
    assert.ok(srv.port > 0);
    const res = await fetch(`http://127.0.0.1:${srv.port}/healthz`);
    assert.deepEqual(await res.json(), { status: "ok" });
  } finally {
    await srv.shutdown();
  }
});
