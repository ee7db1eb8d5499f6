/**
 * The gateway's one typed configuration: defaults, then a JSON config file, then environment
 * variables, then command-line flags — merged once at start and validated with clear errors.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { isConsumerId } from "../schema/mod.ts";
import { DEFAULT_POOL_CAPACITIES, type SchemaPoolCapacities } from "../schema/schema_pools.ts";

/**
 * A provider name as the config accepts it (syntax only: `^[a-z][a-z0-9]{1,15}$`). Which names
 * exist is not listed here: the gateway discovers them (`src/gateway/provider_registry.ts`) and
 * `main.ts` passes them in as {@linkcode LoadConfigOptions.providerNames}.
 */
export type ProviderName = string;

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
  /** Exchanges to carry, each with its embedded simulator in sim mode; empty = all discovered. */
  providers: ProviderName[];
  /**
   * Endpoint overrides by provider and role (`--endpoint okx.ws=ws://...`): that provider
   * connects there and starts no embedded simulator. The registry checks roles and completeness.
   */
  endpoints: Record<ProviderName, Record<string, string>>;
  /** Embedded simulator: seed and aggregate market event rate. */
  sim: { seed: number; eventsPerSecond: number };
  /** Binance endpoints; empty = the embedded simulator (sim) or Binance's (live). */
  binance: { restUrl: string; wsUrl: string };
  /** Terminal live view on stderr: on, off, or auto (a table on a TTY, a summary line otherwise). */
  view: ViewMode;
  /** Directory of the gateway's durable state (order journal); created when missing. */
  dataDir: string;
  /** How long an order request waits for the exchange before it is queried by client id, ms. */
  orderTimeoutMs: number;
  /**
   * Consumers that may trade, with the SHA-256 (hex, lower case) of each one's token: file
   * `traders` plus `SWITCHYARD_TRADER_TOKENS` (hashed at load; the plain tokens are not kept).
   */
  traders: Record<string, { tokenSha256: string }>;
  /** SHA-256 (hex) of `SWITCHYARD_ADMIN_TOKEN`; "" when none. */
  adminTokenSha256: string;
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
/** Default order timeout, ms. */
export const ORDER_TIMEOUT_MS_DEFAULT = 5000;
/** Shortest order timeout accepted, ms. */
export const ORDER_TIMEOUT_MS_MIN = 100;
/** Longest order timeout accepted, ms. */
export const ORDER_TIMEOUT_MS_MAX = 60_000;
/** Most trading consumers in the config. */
export const TRADERS_MAX = 1024;

/** Text of `--help`. */
export const HELP_TEXT = `switchyard — gateway between crypto exchanges and trading strategies

usage: deno task start [flags]

flags:
  --config <file>          JSON config file (keys as in docs/configuration.md)
  --host <addr>            HTTP/WebSocket listen address (default 127.0.0.1)
  --port <n>               HTTP/WebSocket listen port, 0 = any free port (default 8080)
  --live                   connect to the real exchanges instead of the embedded simulators
  --symbols <A-B,C-D>      canonical symbols to carry (default: all simulator symbols; live: BTC-USDT,ETH-USDT)
  --providers <a,b>        exchanges to carry (default: every src/adapter/<name>/provider.ts found;
                           each with its simulator)
  --sim-rate <n>           embedded simulator market events per second, all symbols (default 500)
  --sim-seed <n>           embedded simulator seed (same seed, same market; default 1)
  --binance-rest <url>     Binance REST base URL (e.g. a 'deno task sim' started elsewhere)
  --binance-ws <url>       Binance WebSocket base URL (the adapter appends /stream?streams=...)
  --endpoint <p.role=url>  endpoint of one provider role, repeatable; give every role of that
                           provider (binance: rest, ws; okx: rest, ws, businessWs; kraken: rest, ws),
                           plus its trading role to trade (binance.wsApi, okx.privateWs,
                           kraken.authWs); e.g. the URLs 'deno task sim' prints; no embedded
                           simulator is started
  --view <mode>            live view on stderr: auto|on|off (default auto)
  --log-level <level>      trace|debug|info|warning|error|fatal (default info)
  --log-format <fmt>       json|text (default json: one JSON object per line)
  --debug-pools            poison released pooled objects and keep acquisition stacks
  --pool-capacity <T=n>    capacity of one pool, repeatable (e.g. --pool-capacity CanonicalEvent=600)
  --shutdown-timeout-ms <n>  how long shutdown waits for pooled objects in flight (default 5000)
  --data-dir <dir>         directory of durable state: the order journal (default ./data)
  --order-timeout-ms <n>   wait for an exchange's order answer before querying it, 100..60000
                           (default 5000)
  -h, --help               print this text

environment (overridden by flags):
  SWITCHYARD_CONFIG, SWITCHYARD_HOST, SWITCHYARD_PORT, SWITCHYARD_LOG_LEVEL,
  SWITCHYARD_LOG_FORMAT, SWITCHYARD_POOL_DEBUG=1, SWITCHYARD_MODE=sim|live, SWITCHYARD_SYMBOLS,
  SWITCHYARD_DATA_DIR
  SWITCHYARD_TRADER_TOKENS=id:token,id2:token2  trading tokens of consumers (file: "traders"
                           with token_sha256); SWITCHYARD_ADMIN_TOKEN=<token>  admin token
  SWITCHYARD_BINANCE_API_KEY/_API_SECRET, SWITCHYARD_OKX_API_KEY/_API_SECRET/_PASSPHRASE,
  SWITCHYARD_KRAKEN_API_KEY/_API_SECRET  exchange keys for trading (only from the environment;
                           without them, simulators on loopback get their demo keys)

endpoints: /healthz /readyz /metrics /v1/pools /v1/codec /v1/books /v1/routing /v1/consumers
          /v1/consumers/{id}/subscriptions (POST/DELETE), /v1/consumers/{id}/orders (POST/GET),
          /v1/trading/{id} (GET/PUT), WebSocket /v1/stream (docs/server.md)`;

/** Result of {@linkcode loadConfig}: either run with a config or print help. */
export type ConfigResult = { kind: "run"; config: GatewayConfig } | { kind: "help" };

/** Inputs of {@linkcode loadConfig}; all injectable for tests. */
export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  readTextFile?: (path: string) => string;
  /** Discovered provider names: `providers` must be among them (unchecked when absent). */
  providerNames?: readonly string[];
}

function defaults(): GatewayConfig {
  return {
    http: { host: "127.0.0.1", port: 8080 },
    log: { level: "info", format: "json" },
    pools: { debug: false, capacities: { ...DEFAULT_POOL_CAPACITIES }, shutdownTimeoutMs: 5000 },
    mode: "sim",
    symbols: [],
    providers: [],
    endpoints: {},
    sim: { seed: 1, eventsPerSecond: 500 },
    binance: { restUrl: "", wsUrl: "" },
    view: "auto",
    dataDir: "./data",
    orderTimeoutMs: ORDER_TIMEOUT_MS_DEFAULT,
    traders: {},
    adminTokenSha256: "",
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

const PROVIDER_NAME_RE = /^[a-z][a-z0-9]{1,15}$/;
const ENDPOINT_RE = /^([a-z][a-z0-9]{1,15})\.([a-zA-Z][a-zA-Z0-9]{0,31})=(.+)$/;

function parseProviders(what: string, raw: unknown): ProviderName[] {
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === "string"
    ? raw.split(",").map((x) => x.trim()).filter((x) => x.length > 0)
    : null;
  if (list === null || list.length === 0) {
    throw new ConfigError(
      `${what}: expected a non-empty list of provider names, found ${JSON.stringify(raw)}`,
    );
  }
  for (const p of list) {
    if (typeof p !== "string" || !PROVIDER_NAME_RE.test(p)) {
      throw new ConfigError(
        `${what}: expected provider names matching ${PROVIDER_NAME_RE.source}, found ${
          JSON.stringify(p)
        }`,
      );
    }
  }
  return [...new Set(list as ProviderName[])];
}

/**
 * Throws unless every name in `names` is a discovered provider; the message lists the known
 * ones. Shared by {@linkcode loadConfig} and the gateway (which checks again after discovery).
 */
export function checkProviderNames(
  what: string,
  lists: { names: readonly string[]; known: readonly string[] },
): void {
  for (const p of lists.names) {
    if (!lists.known.includes(p)) {
      throw new ConfigError(
        `${what}: expected ${lists.known.join(" or ")}, found ${JSON.stringify(p)}`,
      );
    }
  }
}

/** One `--endpoint <provider>.<role>=<url>` into `cfg.endpoints`. */
function setEndpoint(cfg: GatewayConfig, spec: string): void {
  const m = ENDPOINT_RE.exec(spec);
  if (m === null) {
    throw new ConfigError(
      `--endpoint: expected <provider>.<role>=<url> (e.g. okx.ws=ws://127.0.0.1:9000/ws/v5/public), found ${
        JSON.stringify(spec)
      }`,
    );
  }
  const [, provider, role, raw] = m;
  const url = parseUrl(`--endpoint ${provider}.${role}`, raw, ["http:", "https:", "ws:", "wss:"]);
  (cfg.endpoints[provider] ??= {})[role] = url;
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

/** Top-level file keys of the trading settings. */
const TRADING_FILE_KEYS = ["dataDir", "orderTimeoutMs", "traders"] as const;
for (const key of TRADING_FILE_KEYS) FILE_KEYS.add(key);
const DATA_DIR_CHARS_MAX = 4096;
const SHA256_HEX_RE = /^[0-9a-fA-F]{64}$/;
// Printable ASCII without space or comma (the separator of SWITCHYARD_TRADER_TOKENS).
const TOKEN_RE = /^[\x21-\x2b\x2d-\x7e]{16,512}$/;
const TOKEN_RULE = "16..512 printable ASCII characters without spaces or commas";

function parseDataDir(what: string, raw: unknown): string {
  if (
    typeof raw === "string" && raw.length > 0 && raw.length <= DATA_DIR_CHARS_MAX &&
    !raw.includes("\0")
  ) {
    return raw;
  }
  throw new ConfigError(
    `${what}: expected a directory path of 1..${DATA_DIR_CHARS_MAX} characters, found ${
      JSON.stringify(typeof raw === "string" ? raw.slice(0, 200) : raw)
    }`,
  );
}

function parseOrderTimeout(what: string, raw: unknown): number {
  return parseInteger(what, raw, ORDER_TIMEOUT_MS_MIN, ORDER_TIMEOUT_MS_MAX);
}

function sha256Hex(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** File `traders`: `{"<consumer id>": {"token_sha256": "<64 hex>"}}`. */
function parseTraders(what: string, raw: unknown): Record<string, { tokenSha256: string }> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      `${what}: expected an object {"<consumer id>": {"token_sha256": "<64 hex>"}}, found ${
        Array.isArray(raw) ? "an array" : JSON.stringify(raw)
      }`,
    );
  }
  const out: Record<string, { tokenSha256: string }> = {};
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > TRADERS_MAX) {
    throw new ConfigError(
      `${what}: expected at most ${TRADERS_MAX} traders, found ${entries.length}`,
    );
  }
  for (const [id, entry] of entries) {
    if (!isConsumerId(id)) {
      throw new ConfigError(
        `${what}: expected consumer ids of 1..64 of A-Z a-z 0-9 . _ : -, found ${
          JSON.stringify(String(id).slice(0, 80))
        }`,
      );
    }
    const keys = typeof entry === "object" && entry !== null && !Array.isArray(entry)
      ? Object.keys(entry)
      : null;
    const hex = keys !== null ? (entry as Record<string, unknown>).token_sha256 : undefined;
    if (keys === null || keys.length !== 1 || typeof hex !== "string" || !SHA256_HEX_RE.test(hex)) {
      throw new ConfigError(
        `${what}.${id}: expected {"token_sha256": "<SHA-256 of the token, 64 hex digits>"}, found ${
          keys === null ? typeof entry : `keys ${JSON.stringify(keys)}`
        }${typeof hex === "string" ? ` with a token_sha256 of ${hex.length} characters` : ""}`,
      );
    }
    out[id] = { tokenSha256: hex.toLowerCase() };
  }
  return out;
}

/**
 * `SWITCHYARD_TRADER_TOKENS=id:token,id2:token2`: plain tokens, hashed here. Errors name the
 * entry by position, never its token.
 */
function parseTraderTokens(what: string, raw: string): Record<string, { tokenSha256: string }> {
  const out: Record<string, { tokenSha256: string }> = {};
  const entries = raw.split(",").map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length > TRADERS_MAX) {
    throw new ConfigError(
      `${what}: expected at most ${TRADERS_MAX} traders, found ${entries.length}`,
    );
  }
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(":");
    // The first ':' ends the id: ids listed here cannot contain ':' (tokens may).
    const id = colon < 0 ? "" : entry.slice(0, colon);
    const token = colon < 0 ? "" : entry.slice(colon + 1);
    if (colon < 0 || !isConsumerId(id)) {
      throw new ConfigError(
        `${what} entry ${
          i + 1
        }: expected <consumer id>:<token> with an id of 1..64 of A-Z a-z 0-9 . _ - (no ':'), found ${
          colon < 0 ? "no ':'" : "an invalid id"
        }`,
      );
    }
    if (!TOKEN_RE.test(token)) {
      throw new ConfigError(
        `${what} entry ${
          i + 1
        } (consumer "${id}"): expected a token of ${TOKEN_RULE}, found ${token.length} characters that are not`,
      );
    }
    if (out[id] !== undefined) {
      throw new ConfigError(
        `${what} entry ${i + 1}: expected each consumer once, found "${id}" again`,
      );
    }
    out[id] = { tokenSha256: sha256Hex(token) };
  });
  return out;
}

function parseAdminToken(what: string, raw: string): string {
  if (raw === "") return "";
  if (!TOKEN_RE.test(raw)) {
    throw new ConfigError(
      `${what}: expected a token of ${TOKEN_RULE}, found ${raw.length} characters that are not`,
    );
  }
  return sha256Hex(raw);
}

function applyTradingFile(cfg: GatewayConfig, path: string, o: Record<string, unknown>): void {
  if (o.dataDir !== undefined) cfg.dataDir = parseDataDir(`${path} dataDir`, o.dataDir);
  if (o.orderTimeoutMs !== undefined) {
    cfg.orderTimeoutMs = parseOrderTimeout(`${path} orderTimeoutMs`, o.orderTimeoutMs);
  }
  if (o.traders !== undefined) cfg.traders = parseTraders(`${path} traders`, o.traders);
}

function applyTradingEnv(cfg: GatewayConfig, get: (k: string) => string | undefined): void {
  const dataDir = get("SWITCHYARD_DATA_DIR");
  if (dataDir !== undefined) cfg.dataDir = parseDataDir("SWITCHYARD_DATA_DIR", dataDir);
  const tokens = get("SWITCHYARD_TRADER_TOKENS");
  if (tokens !== undefined) {
    // Added to the file's traders; an id in both takes the environment's token.
    Object.assign(cfg.traders, parseTraderTokens("SWITCHYARD_TRADER_TOKENS", tokens));
    const count = Object.keys(cfg.traders).length;
    if (count > TRADERS_MAX) {
      throw new ConfigError(`traders: expected at most ${TRADERS_MAX}, found ${count}`);
    }
  }
  const admin = get("SWITCHYARD_ADMIN_TOKEN");
  if (admin !== undefined) {
    cfg.adminTokenSha256 = parseAdminToken("SWITCHYARD_ADMIN_TOKEN", admin);
  }
}

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
  applyTradingFile(cfg, path, o);
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
  applyTradingEnv(cfg, get);
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
        endpoint: { type: "string", multiple: true },
        view: { type: "string" },
        "data-dir": { type: "string" },
        "order-timeout-ms": { type: "string" },
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
  if (f["data-dir"] !== undefined) {
    (cfg.dataDir = parseDataDir("--data-dir", f["data-dir"]), flags.push("data-dir"));
  }
  if (f["order-timeout-ms"] !== undefined) {
    cfg.orderTimeoutMs = parseOrderTimeout("--order-timeout-ms", f["order-timeout-ms"]);
    flags.push("order-timeout-ms");
  }
  if (f.providers !== undefined) {
    cfg.providers = parseProviders("--providers", f.providers);
    flags.push("providers");
  }
  if (opts.providerNames !== undefined) {
    checkProviderNames(f.providers !== undefined ? "--providers" : "providers", {
      names: cfg.providers,
      known: opts.providerNames,
    });
  }
  for (const spec of f.endpoint ?? []) (setEndpoint(cfg, spec), flags.push("endpoint"));
  if ((cfg.binance.restUrl === "") !== (cfg.binance.wsUrl === "")) {
    throw new ConfigError(
      "binance endpoints: expected both restUrl and wsUrl or neither, found only one",
    );
  }
  if (flags.length > 0) cfg.sources.push(`flags:${flags.join(",")}`);
  return { kind: "run", config: cfg };
}
