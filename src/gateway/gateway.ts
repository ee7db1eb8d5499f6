/**
 * Gateway assembly: config -> logging -> pools -> codec engines -> self-check -> metrics ->
 * HTTP server; and the reverse on shutdown (stop serving, drain pools, report leaks).
 *
 * @module
 */

import type { GatewayConfig } from "../config/mod.ts";
import { PoolManager, type PoolStats } from "../pool/mod.ts";
import { createSchemaPools, type SchemaPools } from "../schema/mod.ts";
import { type RunningHttpServer, startHttpServer } from "../server/mod.ts";
import {
  componentLogger,
  type Counter,
  type Gauge,
  LoopLagSampler,
  MetricsRegistry,
} from "../telemetry/mod.ts";
import { type CodecStatus, detectCodec } from "./codec_status.ts";
import { runSelfCheck, type SelfCheckResult } from "./self_check.ts";

const log = componentLogger("gateway");

/** Loop-lag histogram buckets, in ms. */
const LOOP_LAG_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000];

/** A running gateway. */
export class Gateway {
  #ready = false;
  #notReady = "starting";
  #stopping: Promise<void> | null = null;

  private constructor(
    readonly config: GatewayConfig,
    readonly poolManager: PoolManager,
    readonly pools: SchemaPools,
    readonly metrics: MetricsRegistry,
    readonly codec: CodecStatus,
    readonly selfCheck: SelfCheckResult,
    private readonly lag: LoopLagSampler,
    private server: RunningHttpServer | null,
  ) {}

  /** Address the HTTP server listens on. */
  get httpAddress(): { host: string; port: number } {
    if (!this.server) throw new Error("expected a started gateway, found none listening");
    return { host: this.server.host, port: this.server.port };
  }

  /** True once start-up checks passed and until shutdown begins. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Builds and starts everything; throws on a configuration or listen error. */
  static async start(config: GatewayConfig): Promise<Gateway> {
    log.info("starting switchyard", {
      deno: Deno.version.deno,
      mode: config.mode,
      configSources: config.sources,
      poolDebug: config.pools.debug,
    });
    const poolManager = new PoolManager({
      debug: config.pools.debug,
      onLeak: (r) => log.error("pool leak at shutdown", { ...r }),
    });
    const pools = createSchemaPools(poolManager, config.pools.capacities);

    const codec = await detectCodec();
    if (codec.simdjson.available) {
      log.info("{summary}", { summary: codec.summary, engineByShape: codec.engineByShape });
    } else {
      log.warning("simdjson native addon NOT active ({reason}); running on V8 JSON.parse", {
        reason: codec.simdjson.reason,
        summary: codec.summary,
      });
    }

    const selfCheck = runSelfCheck(pools);
    for (const s of selfCheck.steps) {
      const props = { name: s.name, outcome: s.ok ? "ok" : "FAILED", detail: s.detail };
      if (s.ok) log.info("self-check {name}: {outcome}", props);
      else log.error("self-check {name}: {outcome}", props);
    }

    const metrics = new MetricsRegistry();
    const lagHist = metrics.histogram(
      "switchyard_event_loop_lag_ms",
      "Event-loop lag measured by a timer, in milliseconds",
      { bounds: LOOP_LAG_BOUNDS_MS },
    ).labels();
    const lag = new LoopLagSampler({ onSample: (ms) => lagHist.observe(ms) });
    registerPoolMetrics(metrics, poolManager);
    const engineInfo = metrics.gauge(
      "switchyard_codec_engine_available",
      "1 when the JSON engine is loaded and usable",
      ["engine"],
    );
    engineInfo.labels("v8-json").set(1);
    engineInfo.labels("simdjson").set(codec.simdjson.available ? 1 : 0);

    const gw = new Gateway(config, poolManager, pools, metrics, codec, selfCheck, lag, null);
    gw.server = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      status: {
        ready: () => gw.#ready,
        notReadyReason: () => gw.#notReady,
        pools: () => poolManager.stats(),
        codec: () => codec,
        metrics,
      },
      onError: (err) => log.error("http handler failed", { error: err }),
    });
    lag.start();
    if (selfCheck.ok) {
      gw.#ready = true;
      gw.#notReady = "";
    } else {
      gw.#notReady = "self-check failed: " +
        selfCheck.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`).join("; ");
    }
    log.info("listening on http://{host}:{port} (/healthz /readyz /metrics /v1/pools /v1/codec)", {
      host: gw.server.host,
      port: gw.server.port,
      ready: gw.#ready,
    });
    return gw;
  }

  /** Stops serving, waits for pooled objects in flight, logs leaks. Idempotent. */
  shutdown(reason: string): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopping = (async () => {
      log.info("shutting down ({reason})", { reason });
      this.#ready = false;
      this.#notReady = `shutting down: ${reason}`;
      this.lag.stop();
      await this.server?.shutdown();
      const report = await this.poolManager.shutdown({
        timeoutMs: this.config.pools.shutdownTimeoutMs,
      });
      log.info("pools drained: clean={clean} waitedMs={waitedMs}", {
        clean: report.clean,
        waitedMs: Math.round(report.waitedMs),
        leakedObjects: report.leaks.reduce((n, l) => n + l.count, 0),
      });
    })();
    return this.#stopping;
  }
}

function registerPoolMetrics(metrics: MetricsRegistry, manager: PoolManager): void {
  const labels = ["pool"];
  const gauges: [keyof PoolStats, Gauge][] = [
    ["capacity", metrics.gauge("switchyard_pool_capacity", "Pool capacity (objects)", labels)],
    [
      "inFlight",
      metrics.gauge("switchyard_pool_in_flight", "Objects acquired, not released", labels),
    ],
    ["free", metrics.gauge("switchyard_pool_free", "Objects created and free", labels)],
    [
      "highWater",
      metrics.gauge("switchyard_pool_high_water", "Most objects in flight at once", labels),
    ],
  ];
  const counters: [keyof PoolStats, Counter][] = [
    [
      "acquires",
      metrics.counter("switchyard_pool_acquires_total", "Successful acquisitions", labels),
    ],
    ["releases", metrics.counter("switchyard_pool_releases_total", "Releases", labels)],
    [
      "waits",
      metrics.counter("switchyard_pool_waits_total", "Acquisitions that had to wait", labels),
    ],
    [
      "timeouts",
      metrics.counter("switchyard_pool_timeouts_total", "Acquisitions that timed out", labels),
    ],
  ];
  metrics.collect(() => {
    for (const s of manager.stats()) {
      for (const [field, gauge] of gauges) gauge.labels(s.name).set(s[field] as number);
      for (const [field, counter] of counters) counter.labels(s.name).syncTo(s[field] as number);
    }
  });
}
