/**
 * The gateway's one typed configuration: defaults, then a JSON config file, then environment
 * variables, then command-line flags — merged once at start and validated with clear errors.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_POOL_CAPACITIES, type SchemaPoolCapacities } from "../schema/schema_pools.ts";

/** Exchanges the gateway has adapters for. */
export const PROVIDER_NAMES = ["binance", "okx", "kraken"] as const;
/** One of {@linkcode PROVIDER_NAMES}. */
export type ProviderName = typeof PROVIDER_NAMES[number];

/** Live view mode. */
export type ViewMode = "auto" | "on" | "off";

/** Log output format. */
export type LogFormat = "json" | "text";
/** Log level names accepted on the command line and in the file. */
export type LogLevelName = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** Capacities of the six pools (objects in flight). */
export type PoolCapacities = SchemaPoolCapacities;

/** The validated configuration. */
export interface GatewayConfig {
  /** HTTP/WS listener for control, data, /metrics and health. */
  http: { host: string; port: number };
  log: { level: LogLevelName; format: LogFormat };
  pools: { debug: boolean; capacities: PoolCapacities; shutdownTimeoutMs: number };
  /** `sim`: start the embedded exchange simulators on loopback; `live`: real endpoints. */
  mode: "sim" | "live";
  /** Canonical symbols to carry (`BTC-USDT`); empty = every simulator symbol (sim) or BTC/ETH. */
  symbols: string[];
  /** Exchanges to carry, each with its embedded simulator in sim mode. */
  providers: ProviderName[];
  /** Embedded simulator: seed and aggregate market event rate. */
  sim: { seed: number; eventsPerSecond: number };
  /** Binance endpoints; empty = the embedded simulator (sim) or Binance's (live). */
  binance: { restUrl: string; wsUrl: string };
  /** Terminal live view on stderr: on, off, or auto (a table on a TTY, a summary line otherwise). */
  view: ViewMode;
  /** Where the config came from, for the startup log. */
  sources: string[];
}

/** Thrown for any invalid configuration; the message says what was expected and found. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export { DEFAULT_POOL_CAPACITIES };

const LOG_LEVELS: readonly LogLevelName[] = ["trace", "debug", "info", "warning", "error", "fatal"];
const POOL_NAMES = Object.keys(DEFAULT_POOL_CAPACITIES) as (keyof PoolCapacities)[];
const POOL_CAPACITY_MAX = 1_000_000;
const SHUTDOWN_TIMEOUT_MS_MAX = 60_000;

/** Text of `--help`. */
export const HELP_TEXT = `switchyard — gateway between crypto exchanges and trading strategies

usage: deno task start [flags]

flags:
  --config <file>          JSON config file (keys as in docs/configuration.md)
  --host <addr>            HTTP/WebSocket listen address (default 127.0.0.1)
  --port <n>               HTTP/WebSocket listen port, 0 = any free port (default 8080)
  --live                   connect to the real exchanges instead of the embedded simulators
  --symbols <A-B,C-D>      canonical symbols to carry (default: all simulator symbols; live: BTC-USDT,ETH-USDT)
  --providers <a,b>        exchanges to carry: binance,okx,kraken (default all; each with its simulator)
  --sim-rate <n>           embedded simulator market events per second, all symbols (default 500)
  --sim-seed <n>           embedded simulator seed (same seed, same market; default 1)
  --binance-rest <url>     Binance REST base URL (e.g. a 'deno task sim' started elsewhere)
  --binance-ws <url>       Binance WebSocket base URL (the adapter appends /stream?streams=...)
  --view <mode>            live view on stderr: auto|on|off (default auto)
  --log-level <level>      trace|debug|info|warning|error|fatal (default info)
  --log-format <fmt>       json|text (default json: one JSON object per line)
  --debug-pools            poison released pooled objects and keep acquisition stacks
  --pool-capacity <T=n>    capacity of one pool, repeatable (e.g. --pool-capacity CanonicalEvent=600)
  --shutdown-timeout-ms <n>  how long shutdown waits for pooled objects in flight (default 5000)
  -h, --help               print this text

environment (overridden by flags):
  SWITCHYARD_CONFIG, SWITCHYARD_HOST, SWITCHYARD_PORT, SWITCHYARD_LOG_LEVEL,
  SWITCHYARD_LOG_FORMAT, SWITCHYARD_POOL_DEBUG=1, SWITCHYARD_MODE=sim|live, SWITCHYARD_SYMBOLS

endpoints: /healthz /readyz /metrics /v1/pools /v1/codec /v1/books /v1/routing /v1/consumers
          /v1/consumers/{id}/subscriptions (POST/DELETE), WebSocket /v1/stream (docs/server.md)`;

/** Result of {@linkcode loadConfig}: either run with a config or print help. */
export type ConfigResult = { kind: "run"; config: GatewayConfig } | { kind: "help" };

/** Inputs of {@linkcode loadConfig}; all injectable for tests. */
export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  readTextFile?: (path: string) => string;
}

function defaults(): GatewayConfig {
  return {
    http: { host: "127.0.0.1", port: 8080 },
    log: { level: "info", format: "json" },
    pools: { debug: false, capacities: { ...DEFAULT_POOL_CAPACITIES }, shutdownTimeoutMs: 5000 },
    mode: "sim",
    symbols: [],
    providers: [...PROVIDER_NAMES],
    sim: { seed: 1, eventsPerSecond: 500 },
    binance: { restUrl: "", wsUrl: "" },
    view: "auto",
    sources: ["defaults"],
  };
}

function parseInteger(what: string, raw: unknown, min: number, max: number): number {
  const n = typeof raw === "number"
    ? raw
    : typeof raw === "string" && /^-?\d+$/.test(raw)
    ? Number(raw)
    : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${what}: expected an integer in [${min}, ${max}], found ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

function parseLevel(what: string, raw: unknown): LogLevelName {
  if (typeof raw === "string" && (LOG_LEVELS as readonly string[]).includes(raw)) {
    return raw as LogLevelName;
  }
  throw new ConfigError(
    `${what}: expected one of ${LOG_LEVELS.join("|")}, found ${JSON.stringify(raw)}`,
  );
}

function parseFormat(what: string, raw: unknown): LogFormat {
  if (raw === "json" || raw === "text") return raw;
  throw new ConfigError(`${what}: expected json or text, found ${JSON.stringify(raw)}`);
}

function parseBool(what: string, raw: unknown): boolean {
  if (typeof raw === "boolean") return raw;
  if (raw === "1" || raw === "true") return true;
  if (raw === "0" || raw === "false" || raw === "") return false;
  throw new ConfigError(
    `${what}: expected a boolean (1/0/true/false), found ${JSON.stringify(raw)}`,
  );
}

function parseHost(what: string, raw: unknown): string {
  if (typeof raw === "string" && /^[A-Za-z0-9.:\-\[\]]{1,253}$/.test(raw)) return raw;
  throw new ConfigError(`${what}: expected a host name or address, found ${JSON.stringify(raw)}`);
}

function parseMode(what: string, raw: unknown): "sim" | "live" {
  if (raw === "sim" || raw === "live") return raw;
  throw new ConfigError(`${what}: expected sim or live, found ${JSON.stringify(raw)}`);
}

const SYMBOL_RE = /^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$/;
const SYMBOLS_MAX = 256;
const SIM_RATE_MAX = 200_000;

function parseSymbols(what: string, raw: unknown): string[] {
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === "string"
    ? raw.split(",").map((x) => x.trim()).filter((x) => x.length > 0)
    : null;
  if (list === null) {
    throw new ConfigError(
      `${what}: expected a list of BASE-QUOTE symbols, found ${JSON.stringify(raw)}`,
    );
  }
  if (list.length > SYMBOLS_MAX) {
    throw new ConfigError(`${what}: expected at most ${SYMBOLS_MAX} symbols, found ${list.length}`);
  }
  for (const sym of list) {
    if (typeof sym !== "string" || !SYMBOL_RE.test(sym)) {
      throw new ConfigError(
        `${what}: expected BASE-QUOTE symbols like BTC-USDT, found ${JSON.stringify(sym)}`,
      );
    }
  }
  return [...new Set(list as string[])];
}

function parseProviders(what: string, raw: unknown): ProviderName[] {
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === "string"
    ? raw.split(",").map((x) => x.trim()).filter((x) => x.length > 0)
    : null;
  if (list === null || list.length === 0) {
    throw new ConfigError(
      `${what}: expected a non-empty list of ${PROVIDER_NAMES.join("|")}, found ${
        JSON.stringify(raw)
      }`,
    );
  }
  for (const p of list) {
    if (!(PROVIDER_NAMES as readonly unknown[]).includes(p)) {
      throw new ConfigError(
        `${what}: expected ${PROVIDER_NAMES.join(" or ")}, found ${JSON.stringify(p)}`,
      );
    }
  }
  return [...new Set(list as ProviderName[])];
}

function parseUrl(what: string, raw: unknown, schemes: string[]): string {
  let u: URL | null = null;
  try {
    u = typeof raw === "string" ? new URL(raw) : null;
  } catch {
    u = null;
  }
  if (!u || !schemes.includes(u.protocol)) {
    throw new ConfigError(
      `${what}: expected a ${schemes.join(" or ")} URL, found ${JSON.stringify(raw)}`,
    );
  }
  return (raw as string).replace(/\/+$/, "");
}

function parseView(what: string, raw: unknown): ViewMode {
  if (raw === "auto" || raw === "on" || raw === "off") return raw;
  throw new ConfigError(`${what}: expected auto, on or off, found ${JSON.stringify(raw)}`);
}

function setCapacity(cfg: GatewayConfig, what: string, name: string, raw: unknown): void {
  if (!(POOL_NAMES as string[]).includes(name)) {
    throw new ConfigError(
      `${what}: expected a pool name (${POOL_NAMES.join(", ")}), found "${name}"`,
    );
  }
  cfg.pools.capacities[name as keyof PoolCapacities] = parseInteger(
    `${what} ${name}`,
    raw,
    1,
    POOL_CAPACITY_MAX,
  );
}

const FILE_KEYS = new Set([
  "http",
  "log",
  "pools",
  "mode",
  "symbols",
  "providers",
  "sim",
  "binance",
  "view",
]);

function applyFile(cfg: GatewayConfig, path: string, text: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${path}: expected JSON, found a parse error: ${(err as Error).message}`,
    );
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`config file ${path}: expected a JSON object at the top level`);
  }
  const o = doc as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FILE_KEYS.has(key)) {
      throw new ConfigError(
        `config file ${path}: unknown key "${key}", expected one of ${[...FILE_KEYS].join(", ")}`,
      );
    }
  }
  const section = (name: string): Record<string, unknown> => {
    const s = o[name];
    if (s === undefined) return {};
    if (typeof s !== "object" || s === null || Array.isArray(s)) {
      throw new ConfigError(`config file ${path}: "${name}" must be an object`);
    }
    return s as Record<string, unknown>;
  };
  const http = section("http");
  if (http.host !== undefined) cfg.http.host = parseHost(`${path} http.host`, http.host);
  if (http.port !== undefined) {
    cfg.http.port = parseInteger(`${path} http.port`, http.port, 0, 65535);
  }
  const log = section("log");
  if (log.level !== undefined) cfg.log.level = parseLevel(`${path} log.level`, log.level);
  if (log.format !== undefined) cfg.log.format = parseFormat(`${path} log.format`, log.format);
  const pools = section("pools");
  if (pools.debug !== undefined) cfg.pools.debug = parseBool(`${path} pools.debug`, pools.debug);
  if (pools.shutdownTimeoutMs !== undefined) {
    cfg.pools.shutdownTimeoutMs = parseInteger(
      `${path} pools.shutdownTimeoutMs`,
      pools.shutdownTimeoutMs,
      0,
      SHUTDOWN_TIMEOUT_MS_MAX,
    );
  }
  if (pools.capacities !== undefined) {
    const caps = pools.capacities;
    if (typeof caps !== "object" || caps === null || Array.isArray(caps)) {
      throw new ConfigError(`config file ${path}: "pools.capacities" must be an object`);
    }
    for (const [name, v] of Object.entries(caps)) {
      setCapacity(cfg, `${path} pools.capacities`, name, v);
    }
  }
  if (o.mode !== undefined) cfg.mode = parseMode(`${path} mode`, o.mode);
  if (o.symbols !== undefined) cfg.symbols = parseSymbols(`${path} symbols`, o.symbols);
  if (o.view !== undefined) cfg.view = parseView(`${path} view`, o.view);
  if (o.providers !== undefined) cfg.providers = parseProviders(`${path} providers`, o.providers);
  const sim = section("sim");
  if (sim.seed !== undefined) {
    cfg.sim.seed = parseInteger(`${path} sim.seed`, sim.seed, 0, 2 ** 31 - 1);
  }
  if (sim.eventsPerSecond !== undefined) {
    cfg.sim.eventsPerSecond = parseInteger(
      `${path} sim.eventsPerSecond`,
      sim.eventsPerSecond,
      1,
      SIM_RATE_MAX,
    );
  }
  const binance = section("binance");
  if (binance.restUrl !== undefined) {
    cfg.binance.restUrl = parseUrl(`${path} binance.restUrl`, binance.restUrl, ["http:", "https:"]);
  }
  if (binance.wsUrl !== undefined) {
    cfg.binance.wsUrl = parseUrl(`${path} binance.wsUrl`, binance.wsUrl, ["ws:", "wss:"]);
  }
  cfg.sources.push(`file:${path}`);
}

function applyEnv(cfg: GatewayConfig, env: Record<string, string | undefined>): void {
  const used: string[] = [];
  const get = (k: string): string | undefined => {
    const v = env[k];
    if (v !== undefined) used.push(k);
    return v;
  };
  const host = get("SWITCHYARD_HOST");
  if (host !== undefined) cfg.http.host = parseHost("SWITCHYARD_HOST", host);
  const port = get("SWITCHYARD_PORT");
  if (port !== undefined) cfg.http.port = parseInteger("SWITCHYARD_PORT", port, 0, 65535);
  const level = get("SWITCHYARD_LOG_LEVEL");
  if (level !== undefined) cfg.log.level = parseLevel("SWITCHYARD_LOG_LEVEL", level);
  const format = get("SWITCHYARD_LOG_FORMAT");
  if (format !== undefined) cfg.log.format = parseFormat("SWITCHYARD_LOG_FORMAT", format);
  const debug = get("SWITCHYARD_POOL_DEBUG");
  if (debug !== undefined) cfg.pools.debug = parseBool("SWITCHYARD_POOL_DEBUG", debug);
  const mode = get("SWITCHYARD_MODE");
  if (mode !== undefined) cfg.mode = parseMode("SWITCHYARD_MODE", mode);
  const symbols = get("SWITCHYARD_SYMBOLS");
  if (symbols !== undefined) cfg.symbols = parseSymbols("SWITCHYARD_SYMBOLS", symbols);
  if (used.length > 0) cfg.sources.push(`env:${used.join(",")}`);
}

/**
 * Builds the configuration from `args` (command-line flags) and the environment.
 *
 * @example
 * ```ts
 * const r = loadConfig(["--port", "0"], { env: {} });
 * if (r.kind === "run") console.log(r.config.http.port); // 0
 * ```
 */
export function loadConfig(args: readonly string[], opts: LoadConfigOptions = {}): ConfigResult {
  const env = opts.env ?? {};
  const read = opts.readTextFile ?? ((p: string) => Deno.readTextFileSync(p));
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        live: { type: "boolean" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        "debug-pools": { type: "boolean" },
        "pool-capacity": { type: "string", multiple: true },
        "shutdown-timeout-ms": { type: "string" },
        symbols: { type: "string" },
        providers: { type: "string" },
        "sim-rate": { type: "string" },
        "sim-seed": { type: "string" },
        "binance-rest": { type: "string" },
        "binance-ws": { type: "string" },
        view: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.replace(/\.$/, "")}; see --help`);
  }
  const f = parsed.values;
  if (f.help) return { kind: "help" };
  const cfg = defaults();
  const file = f.config ?? env.SWITCHYARD_CONFIG;
  if (file !== undefined) {
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      throw new ConfigError(`config file ${file}: cannot read it: ${(err as Error).message}`);
    }
    applyFile(cfg, file, text);
  }
  applyEnv(cfg, env);
  const flags: string[] = [];
  if (f.host !== undefined) (cfg.http.host = parseHost("--host", f.host), flags.push("host"));
  if (f.port !== undefined) {
    (cfg.http.port = parseInteger("--port", f.port, 0, 65535), flags.push("port"));
  }
  if (f.live) (cfg.mode = "live", flags.push("live"));
  if (f["log-level"] !== undefined) {
    cfg.log.level = parseLevel("--log-level", f["log-level"]);
    flags.push("log-level");
  }
  if (f["log-format"] !== undefined) {
    cfg.log.format = parseFormat("--log-format", f["log-format"]);
    flags.push("log-format");
  }
  if (f["debug-pools"]) (cfg.pools.debug = true, flags.push("debug-pools"));
  for (const spec of f["pool-capacity"] ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError(`--pool-capacity: expected Type=n, found "${spec}"`);
    }
    setCapacity(cfg, "--pool-capacity", spec.slice(0, eq), spec.slice(eq + 1));
    flags.push("pool-capacity");
  }
  if (f["shutdown-timeout-ms"] !== undefined) {
    cfg.pools.shutdownTimeoutMs = parseInteger(
      "--shutdown-timeout-ms",
      f["shutdown-timeout-ms"],
      0,
      SHUTDOWN_TIMEOUT_MS_MAX,
    );
    flags.push("shutdown-timeout-ms");
  }
  if (f.symbols !== undefined) {
    (cfg.symbols = parseSymbols("--symbols", f.symbols), flags.push("symbols"));
  }
  if (f["sim-rate"] !== undefined) {
    cfg.sim.eventsPerSecond = parseInteger("--sim-rate", f["sim-rate"], 1, SIM_RATE_MAX);
    flags.push("sim-rate");
  }
  if (f["sim-seed"] !== undefined) {
    cfg.sim.seed = parseInteger("--sim-seed", f["sim-seed"], 0, 2 ** 31 - 1);
    flags.push("sim-seed");
  }
  if (f["binance-rest"] !== undefined) {
    cfg.binance.restUrl = parseUrl("--binance-rest", f["binance-rest"], ["http:", "https:"]);
    flags.push("binance-rest");
  }
  if (f["binance-ws"] !== undefined) {
    cfg.binance.wsUrl = parseUrl("--binance-ws", f["binance-ws"], ["ws:", "wss:"]);
    flags.push("binance-ws");
  }
  if (f.view !== undefined) (cfg.view = parseView("--view", f.view), flags.push("view"));
  if (f.providers !== undefined) {
    cfg.providers = parseProviders("--providers", f.providers);
    flags.push("providers");
  }
  if ((cfg.binance.restUrl === "") !== (cfg.binance.wsUrl === "")) {
    throw new ConfigError(
      "binance endpoints: expected both restUrl and wsUrl or neither, found only one",
    );
  }
  if (flags.length > 0) cfg.sources.push(`flags:${flags.join(",")}`);
  return { kind: "run", config: cfg };
}
