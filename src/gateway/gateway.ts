/**
 * Gateway assembly: config -> providers (discovered in src/adapter/) -> logging -> pools ->
 * codec engines -> self-check -> metrics -> pipeline (simulators or live endpoints -> one adapter
 * per provider -> conductor -> dispatcher -> consumers) -> HTTP/WS server -> live view; and the reverse on shutdown (stop serving, close
 * the adapter and consumers, drain pools, report leaks).
 *
 * @module
 */

import type { BinanceAdapter } from "../adapter/binance/mod.ts";
import type { BinanceFeed } from "../adapter/binance/provider.ts";
import type {
  BookResyncEvent,
  BookStateChange,
  EndpointUrls,
  ProviderModule,
  TradeGapEvent,
} from "../adapter/shared/mod.ts";
import { Conductor, MergedStreams } from "../conductor/mod.ts";
import type { GatewayConfig } from "../config/mod.ts";
import { ANY_PROVIDER, type Consumer, ConsumerRegistry, type StreamKey } from "../consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../dispatcher/mod.ts";
import { PoolManager } from "../pool/mod.ts";
import type { CanonicalEvent } from "../schema/canonical_event.ts";
import {
  createSchemaPools,
  DEFAULT_POOL_CAPACITIES,
  type SchemaPoolCapacities,
  type SchemaPools,
} from "../schema/mod.ts";
import {
  type BookStateView,
  ConsumerAuth,
  OrderControl,
  type RunningHttpServer,
  startHttpServer,
  type StreamLimits,
  StreamServer,
} from "../server/mod.ts";
import type { BinanceSim } from "../sim/binance/mod.ts";
import {
  componentLogger,
  DeadLetterQueue,
  LoopLagSampler,
  MetricsRegistry,
  newDecisionId,
  NO_ID,
  PROCESS_ID_PREFIX,
  registerDeadLetterMetrics,
  registerTelemetryBusMetrics,
  TelemetryBus,
} from "../telemetry/mod.ts";
import { type CodecStatus, detectCodec } from "./codec_status.ts";
import { LiveView } from "./live_view.ts";
import {
  createVenues,
  GatewayOrderDesk,
  openOrderStore,
  type OrderStore,
} from "./order_service.ts";
import { registerOrderMetrics } from "./order_metrics.ts";
import { OrderGateway, type OrderVenue } from "../orders/mod.ts";
import type { FeedContext, MarketFeed } from "./market_feeds.ts";
import {
  checkEndpointOverrides,
  discoverProviders,
  type ProviderRegistry,
  selectProviders,
} from "./provider_registry.ts";
import {
  ConsumerMetrics,
  DeliveryLatencyMetric,
  registerPipelineMetrics,
  registerPoolMetrics,
} from "./gateway_metrics.ts";
import { runSelfCheck, type SelfCheckResult } from "./self_check.ts";
import { SnapshotOnSubscribeRoutes } from "./snapshot_on_subscribe.ts";

const log = componentLogger("gateway");
const bookLog = componentLogger("book");

/** Loop-lag histogram buckets, in ms. */
const LOOP_LAG_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000];

/** Options of {@linkcode Gateway.start} beyond the config (tests). */
export interface GatewayStartOptions {
  /** Force the live view off/on regardless of config and TTY. */
  view?: boolean;
  /** The providers (default: discovered from `src/adapter/` at start). */
  registry?: ProviderRegistry;
  /** Bounds of the WebSocket endpoint (default `STREAM_LIMITS_DEFAULT`; tests lower them). */
  streamLimits?: Partial<StreamLimits>;
}

/**
 * Endpoint overrides of `config` by provider: `--endpoint` entries, with the legacy
 * `--binance-rest`/`--binance-ws` pair as Binance's `rest`/`ws` (an `--endpoint` role wins).
 */
function endpointOverrides(config: GatewayConfig): Record<string, EndpointUrls> {
  const out: Record<string, EndpointUrls> = { ...config.endpoints };
  if (config.binance.restUrl !== "") {
    out.binance = { rest: config.binance.restUrl, ws: config.binance.wsUrl, ...out.binance };
  }
  return out;
}

/** A running gateway. */
export class Gateway {
  #ready = false;
  #notReady = "starting";
  #stopping: Promise<void> | null = null;
  /** The order side (R-11..R-13): journal, venues, reports. */
  orders: OrderGateway | null = null;
  /**
   * Orders for in-process strategies: the same desk the WebSocket and HTTP surfaces call, with
   * no token (code in this process is trusted); the trading switch still applies.
   */
  desk: GatewayOrderDesk | null = null;
  readonly #venues = new Map<string, OrderVenue>();
  #ordersStarted: Promise<void> = Promise.resolve();
  server: RunningHttpServer | null = null;
  /** One per exchange carried (adapter plus, in sim mode, its simulator). */
  readonly feeds: MarketFeed[] = [];
  /** The providers carried, in registry order (set by start before market data starts). */
  #providers: readonly ProviderModule[] = [];
  #endpoints: ReadonlyMap<string, EndpointUrls> = new Map();
  /** The Binance feed's simulator and adapter, when Binance is carried (tests, faults). */
  sim: BinanceSim | null = null;
  adapter: BinanceAdapter | null = null;
  view: LiveView | null = null;
  readonly routes = new RoutingTable<Consumer>();
  readonly consumers: ConsumerRegistry;
  readonly dispatcher: Dispatcher<Consumer>;
  readonly conductor: Conductor;
  /** Merged subscriptions: shared merge windows and their fan-out. */
  readonly merged: MergedStreams;
  /** Ops-only telemetry (never delivered to strategies); `/v1/telemetry`. */
  readonly telemetry = new TelemetryBus();
  /** Dead letters: what was dropped, and why; `/v1/dlq`. */
  readonly dlq = new DeadLetterQueue();
  #telemetryFlush: ReturnType<typeof setInterval> | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly poolManager: PoolManager,
    readonly pools: SchemaPools,
    readonly metrics: MetricsRegistry,
    readonly codec: CodecStatus,
    readonly selfCheck: SelfCheckResult,
    private readonly lag: LoopLagSampler,
    private readonly store: OrderStore,
  ) {
    // Fed by the consumer hooks below; the queue gauges read the registry at scrape time.
    const consumerMetrics = new ConsumerMetrics({
      metrics,
      consumers: () => this.consumers.list(),
    });
    const latency = new DeliveryLatencyMetric(metrics);
    this.merged = new MergedStreams({
      // Called only on a merged subscribe or unsubscribe, after the constructor has finished.
      conductor: {
        addMergeStage: (stage) => this.conductor.addMergeStage(stage),
        removeMergeStage: (id) => this.conductor.removeMergeStage(id),
      },
      pool: pools.mergedEvent,
      versions: this.routes,
      onSuppressed: (info) =>
        this.telemetry.publish({
          type: "merge.suppressed_partial",
          ...info,
          trace_id: NO_ID,
          decision_id: newDecisionId(),
        }),
      onLateDrop: (info) =>
        this.telemetry.publish({
          type: "merge.late_drop",
          ...info,
          trace_id: NO_ID,
          decision_id: newDecisionId(),
        }),
      onPoolExhausted: (info) =>
        log.warning("merged window {merge_id} of {symbol} {kind} lost: pool exhausted", {
          ...info,
        }),
    });
    this.consumers = new ConsumerRegistry({
      // Shares the intent journal's database: a journal change and its reports commit together.
      execLog: store.execLog,
      merged: this.merged,
      routes: new SnapshotOnSubscribeRoutes({
        routes: this.routes,
        onSnapshotNeeded: (key) => this.#publishSnapshot(key),
      }),
      hooks: {
        onCoalesced: (replaced, consumer) => {
          consumerMetrics.coalesced(consumer);
          this.telemetry.publish({
            type: "coalesced",
            consumer,
            stream: `${replaced.provider}:${replaced.symbol}:${replaced.kind}`,
            count: 1,
            trace_id: NO_ID,
            decision_id: NO_ID,
          });
        },
        onDropped: (ev, info) => {
          consumerMetrics.dropped(info.consumerId);
          // Events counted into a gap are reported once, by their gap marker (onGap).
          if (info.reason === "gap") return;
          const stream = `${ev.provider}:${ev.symbol}:${ev.kind}`;
          const decision = newDecisionId();
          this.telemetry.publish({
            type: "dropped",
            consumer: info.consumerId,
            stream,
            count: 1,
            reason: info.reason,
            trace_id: NO_ID,
            decision_id: decision,
          });
          this.dlq.add({
            priority: "low",
            reason: info.reason,
            stream,
            consumer: info.consumerId,
            trace_id: NO_ID,
            decision_id: decision,
            payload: ev,
          });
        },
        onGap: (gap, consumer) => {
          consumerMetrics.gap(consumer);
          this.telemetry.publish({
            type: "gap",
            consumer,
            stream: `${gap.provider}:${gap.symbol}:${gap.kind}`,
            from_seq: gap.fromSeq,
            to_seq: gap.toSeq,
            count: gap.count,
            trace_id: NO_ID,
            decision_id: newDecisionId(),
          });
        },
        onDelivered: latency.observe,
      },
    });
    this.dispatcher = new Dispatcher({
      routes: this.routes,
      pool: pools.canonicalEvent,
      onError: (err, info) => log.error("delivery to {consumerId} failed", { ...info, error: err }),
      ordering: {
        // A snapshot stands alone; the same snapshot is re-sent to late subscribers. Trade ids
        // are contiguous on Binance but skip on OKX (one id per taker order) and Kraken, so
        // trades are ordered as strictly increasing, never held for a "gap".
        modes: { book_snapshot: "none", trade: "increasing" },
        onLate: (i) => {
          const stream = `${i.provider}:${i.symbol}:${i.kind}`;
          const decision = newDecisionId();
          this.telemetry.publish({
            type: "ordering.late",
            stream,
            seq: i.event.seq,
            lateness_ms: Math.max(0, performance.timeOrigin + performance.now() - i.event.recvTsMs),
            trace_id: NO_ID,
            decision_id: decision,
          });
          this.dlq.add({
            priority: "low",
            reason: `late_${i.reason}`,
            stream,
            consumer: "*",
            trace_id: NO_ID,
            decision_id: decision,
            payload: i.event, // summarised at once; no reference is kept
          });
        },
        onDuplicate: (i) =>
          this.telemetry.publish({
            type: "duplicate",
            stream: `${i.provider}:${i.symbol}:${i.kind}`,
            seq: i.seq,
            trace_id: NO_ID,
            decision_id: NO_ID,
          }),
        onGap: (i) =>
          this.telemetry.publish({
            type: "gap",
            consumer: "*",
            stream: `${i.provider}:${i.symbol}:${i.kind}`,
            from_seq: i.fromSeq,
            to_seq: i.toSeq,
            count: i.toSeq - i.fromSeq + 1,
            trace_id: NO_ID,
            decision_id: newDecisionId(),
          }),
        onSequenceReset: (i) =>
          log.warning("sequence of {provider} {symbol} {kind} restarted", { ...i }),
      },
    });
    this.conductor = new Conductor({
      sink: this.dispatcher,
      onError: (err, stageId) => log.error("merge stage {stageId} failed", { stageId, error: err }),
    });
  }

  /** Address the HTTP server listens on. */
  get httpAddress(): { host: string; port: number } {
    if (!this.server) throw new Error("expected a started gateway, found none listening");
    return { host: this.server.host, port: this.server.port };
  }

  /** True once start-up checks passed and the adapter started, until shutdown begins. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Builds and starts everything; throws on a listen error. Adapter failures leave it not ready. */
  static async start(config: GatewayConfig, opts: GatewayStartOptions = {}): Promise<Gateway> {
    log.info("starting switchyard", {
      deno: Deno.version.deno,
      mode: config.mode,
      configSources: config.sources,
      poolDebug: config.pools.debug,
    });
    // Unknown providers or malformed overrides are configuration errors: thrown before
    // anything listens.
    const registry = opts.registry ?? await discoverProviders();
    const providers = selectProviders(registry, {
      what: "--providers",
      names: config.providers,
    });
    const endpoints = checkEndpointOverrides(registry, endpointOverrides(config));
    log.info("providers discovered: {discovered}; carried: {carried}", {
      discovered: registry.names(),
      carried: providers.map((p) => p.name),
    });
    const poolManager = new PoolManager({
      debug: config.pools.debug,
      onLeak: (r) => log.error("pool leak at shutdown", { ...r }),
    });
    const capacities = hotPathCapacitiesFor(config.pools.capacities, providers.length);
    log.info("pool capacities: {capacities}", { capacities });
    const pools = createSchemaPools(poolManager, capacities);

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

    const store = openOrderStore(config.dataDir);
    log.info("durable store: {path}", { path: store.path });
    const gw = new Gateway(config, poolManager, pools, metrics, codec, selfCheck, lag, store);
    gw.orders = new OrderGateway({
      journal: store.journal,
      venues: gw.#venues,
      pools: { orderRequests: pools.orderRequest, execReports: pools.execReport },
      deliver: (report) => gw.consumers.enqueueExecReport(report),
      requestTimeoutMs: config.orderTimeoutMs,
      logger: componentLogger("orders"),
    });
    registerOrderMetrics(metrics, gw.orders);
    gw.desk = new GatewayOrderDesk({ gateway: gw.orders, requests: pools.orderRequest });
    const orderControl = new OrderControl({
      desk: gw.desk,
      auth: new ConsumerAuth(config),
      metrics,
      onDeskError: (err) => log.error("order desk failed: {error}", { error: err }),
    });
    gw.#providers = providers;
    gw.#endpoints = endpoints;
    registerPipelineMetrics({
      metrics,
      feeds: () => gw.feeds,
      dispatcher: gw.dispatcher,
    });
    registerTelemetryBusMetrics(metrics, gw.telemetry);
    registerDeadLetterMetrics(metrics, gw.dlq);
    // The bus owns no timer; its rate-limited log summaries are flushed from here.
    gw.#telemetryFlush = setInterval(() => gw.telemetry.flushLogSummaries(), 1000);
    log.info("trace and decision ids carry process prefix {prefix}", { prefix: PROCESS_ID_PREFIX });
    const stream = new StreamServer({
      orders: orderControl,
      limits: opts.streamLimits,
      consumers: gw.consumers,
      metrics,
      // Once per backpressure pause of a WebSocket consumer, as it begins.
      onSlow: (info) =>
        gw.telemetry.publish({
          type: "consumer.slow",
          consumer: info.consumerId,
          buffered_bytes: info.bufferedBytes,
          behind_ms: info.behindMs,
          trace_id: NO_ID,
          decision_id: newDecisionId(),
        }),
    });
    gw.server = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      stream,
      metrics,
      ops: { dlq: gw.dlq, telemetry: gw.telemetry },
      orders: orderControl,
      status: {
        ready: () => gw.#ready,
        notReadyReason: () => gw.#notReady,
        pools: () => poolManager.stats(),
        codec: () => codec,
        metrics,
        consumers: gw.consumers,
        routing: () => gw.routes.snapshot(),
        books: () => gw.#bookViews(),
      },
      onError: (err) => log.error("http handler failed", { error: err }),
    });
    lag.start();
    log.info(
      "listening on http://{host}:{port} (WebSocket /v1/stream; /healthz /readyz /metrics /v1/books)",
      {
        host: gw.server.host,
        port: gw.server.port,
      },
    );

    if (!selfCheck.ok) {
      gw.#notReady = "self-check failed: " +
        selfCheck.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`).join("; ");
      return gw;
    }
    try {
      await gw.#startMarketData();
    } catch (err) {
      gw.#notReady = `market data did not start: ${(err as Error).message}`;
      log.error("market data did not start: {error}", { error: err });
      return gw;
    }
    gw.#ready = true;
    gw.#notReady = "";
    const viewOn = opts.view ?? (config.view === "on" || config.view === "auto");
    if (viewOn) {
      gw.view = new LiveView({
        consumers: gw.consumers,
        table: config.view === "on" || Deno.stderr.isTerminal(),
        source: {
          eventsByKind: () => {
            const total: Record<string, number> = {};
            for (const f of gw.feeds) {
              for (const [k, n] of Object.entries(f.eventsByKind())) total[k] = (total[k] ?? 0) + n;
            }
            return total;
          },
          books: () => gw.#bookViews(),
          symbols: () => [...new Set(gw.feeds.flatMap((f) => f.activeSymbols()))],
          providers: () => gw.feeds.map((f) => f.provider),
        },
      });
      gw.view.start();
    }
    return gw;
  }

  async #startMarketData(): Promise<void> {
    const cfg = this.config;
    const resyncs = this.metrics.counter(
      "switchyard_book_resync_total",
      "Order book resynchronisations (book.resync telemetry)",
      ["provider", "symbol", "reason"],
    );
    const tradeGaps = this.metrics.counter(
      "switchyard_trade_id_gaps_total",
      "Trade ids skipped by an exchange whose trade ids are consecutive (trade.gap telemetry)",
      ["provider", "symbol"],
    );
    const ctx: FeedContext = {
      pools: this.pools,
      symbols: cfg.symbols, // empty with a simulator: every symbol it lists
      sim: cfg.mode === "sim" ? cfg.sim : null,
      sink: (ev: CanonicalEvent) => {
        // A (re)synced book starts a new update chain: the ordering buffer must not hold the
        // first update after it as a gap.
        if (ev.kind === "book_snapshot") {
          this.dispatcher.resetStream({
            provider: ev.provider,
            symbol: ev.symbol,
            kind: "book_update",
          });
        }
        this.conductor.ingest(ev);
      },
      onResync: (e: BookResyncEvent) => {
        resyncs.labels(e.provider, e.symbol, e.reason).inc();
        // Logged (rate-limited) by the bus.
        this.telemetry.publish({
          type: "book.resync",
          ...e,
          trace_id: NO_ID,
          decision_id: newDecisionId(),
        });
      },
      onStateChange: (c: BookStateChange) =>
        bookLog.info("book {provider} {symbol} {from} -> {to}", { ...c }),
      onTradeGap: (e: TradeGapEvent) => {
        tradeGaps.labels(e.provider, e.symbol).inc(e.count);
        // Logged (rate-limited) by the bus.
        this.telemetry.publish({
          type: "trade.gap",
          provider: e.provider,
          symbol: e.symbol,
          from_seq: e.fromSeq,
          to_seq: e.toSeq,
          count: e.count,
          trace_id: NO_ID,
          decision_id: newDecisionId(),
        });
      },
    };
    for (const provider of this.#providers) {
      const endpoints = this.#endpoints.get(provider.name);
      const feed = await provider.createFeed({ ...ctx, endpoints });
      this.feeds.push(feed);
      if (provider.name === "binance") {
        // Convenience handles for tests and fault injection; nothing else depends on them.
        this.adapter = (feed as BinanceFeed).adapter;
        this.sim = (feed as BinanceFeed).sim;
      }
      log.info("{provider} feed: {endpoints}", {
        provider: provider.name,
        endpoints: feed.endpoints,
        simulator: cfg.mode === "sim" && endpoints === undefined,
        rate: cfg.mode === "sim" ? cfg.sim.eventsPerSecond : undefined,
      });
    }
    // Feeds start together: one slow exchange does not hold up the others.
    await Promise.all(this.feeds.map((f) => f.start()));
    // The trading side: one venue per provider that can trade, on the endpoints its feed uses.
    // Not awaited by readiness: a venue that is slow to log in only delays orders to it.
    const venues = createVenues({
      providers: this.#providers.map((module, i) => ({
        module,
        endpoints: this.feeds[i].endpoints,
      })),
      logger: componentLogger("orders"),
    });
    for (const [name, venue] of venues) this.#venues.set(name, venue);
    this.desk?.open();
    this.#ordersStarted = this.orders!.start().catch((err) =>
      log.error("order side did not start: {error}", { error: err })
    );
  }

  /**
   * A consumer needs a book snapshot (it just subscribed to snapshots, or to updates while
   * holding snapshots): send the current book now if it is live; otherwise the sync itself will
   * send one. Every subscriber of that snapshot stream receives it (a snapshot is self-contained,
   * so an extra one is harmless).
   */
  #publishSnapshot(key: StreamKey): void {
    if (this.#stopping !== null) return;
    for (const feed of this.feeds) {
      if (key.provider !== feed.provider && key.provider !== ANY_PROVIDER) continue;
      try {
        feed.publishBookSnapshot(key.symbol);
      } catch (err) {
        log.error("book snapshot for a new subscriber failed", { ...key, error: err });
      }
    }
  }

  #bookViews(): BookStateView[] {
    return this.feeds.flatMap((f) => f.books());
  }

  /** Stops serving, closes market data and consumers, waits for pooled objects, logs leaks. */
  shutdown(reason: string): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopping = (async () => {
      log.info("shutting down ({reason})", { reason });
      this.#ready = false;
      this.#notReady = `shutting down: ${reason}`;
      this.view?.stop();
      this.lag.stop();
      if (this.#telemetryFlush !== undefined) clearInterval(this.#telemetryFlush);
      await this.server?.shutdown();
      await this.#ordersStarted;
      await this.orders?.close(); // venues; sends in flight settle first
      await Promise.all(this.feeds.map((f) => f.close())); // adapters, then their simulators
      this.dispatcher.close(); // delivers held events in order, clears the lateness timer
      this.merged.close(); // stops every merge window timer
      this.consumers.close(); // closes every consumer
      this.store.close(); // the intent journal, the exec-report log, their database
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

/** The pooled types every exchange adapter draws from on receive. */
const HOT_PATH_POOLS = ["WsFrame", "ProviderRaw", "CanonicalEvent"] as const;

/**
 * Capacities for `providers` exchanges: each adapter bursts on its own, so a hot-path pool left
 * at its default (sized for one exchange) is multiplied by the number of exchanges carried.
 * Capacities set explicitly (`--pool-capacity`, config file) are kept as given.
 */
export function hotPathCapacitiesFor(
  configured: Readonly<SchemaPoolCapacities>,
  providers: number,
): SchemaPoolCapacities {
  const out = { ...configured };
  for (const name of HOT_PATH_POOLS) {
    if (configured[name] === DEFAULT_POOL_CAPACITIES[name]) {
      out[name] = DEFAULT_POOL_CAPACITIES[name] * Math.max(1, providers);
    }
  }
  return out;
}
