import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ConfigError, DEFAULT_POOL_CAPACITIES, loadConfig } from "../../src/config/mod.ts";

function run(args: string[], env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const r = loadConfig(args, {
    env,
    readTextFile: (p) => {
      if (!(p in files)) throw new Error(`no such file ${p}`);
      return files[p];
    },
  });
  if (r.kind !== "run") throw new Error("expected a run config");
  return r.config;
}

Deno.test("config defaults bind loopback, sim mode, seed pool capacities", () => {
  const c = run([]);
  assert.equal(c.http.host, "127.0.0.1");
  assert.equal(c.http.port, 8080);
  assert.equal(c.mode, "sim");
  assert.equal(c.pools.debug, false);
  assert.deepEqual(c.pools.capacities, DEFAULT_POOL_CAPACITIES);
  assert.deepEqual(c.sources, ["defaults"]);
});

Deno.test("config precedence is defaults < file < env < flags", () => {
  const files = {
    "/c.json": JSON.stringify({ http: { port: 9000, host: "0.0.0.0" }, log: { level: "debug" } }),
  };
  const c = run(["--config", "/c.json", "--port", "9002"], {
    SWITCHYARD_PORT: "9001",
    SWITCHYARD_POOL_DEBUG: "1",
  }, files);
  assert.equal(c.http.port, 9002);
  assert.equal(c.http.host, "0.0.0.0");
  assert.equal(c.log.level, "debug");
  assert.equal(c.pools.debug, true);
  assert.deepEqual(c.sources, [
    "defaults",
    "file:/c.json",
    "env:SWITCHYARD_PORT,SWITCHYARD_POOL_DEBUG",
    "flags:port",
  ]);
});

Deno.test("config flags: live, debug pools, pool capacities, log format", () => {
  const c = run([
    "--live",
    "--debug-pools",
    "--pool-capacity",
    "CanonicalEvent=600",
    "--pool-capacity=WsFrame=10",
    "--log-format",
    "text",
    "--shutdown-timeout-ms",
    "100",
  ]);
  assert.equal(c.mode, "live");
  assert.equal(c.pools.debug, true);
  assert.equal(c.pools.capacities.CanonicalEvent, 600);
  assert.equal(c.pools.capacities.WsFrame, 10);
  assert.equal(c.log.format, "text");
  assert.equal(c.pools.shutdownTimeoutMs, 100);
});

Deno.test("config --help returns help instead of a config", () => {
  assert.equal(loadConfig(["--help"]).kind, "help");
  assert.equal(loadConfig(["-h"]).kind, "help");
});

Deno.test("config rejects bad input with clear messages", async (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    ["unknown flag", () => run(["--nope"]), /--nope.*see --help/],
    [
      "bad port",
      () => run(["--port", "70000"]),
      /--port: expected an integer in \[0, 65535\], found "70000"/,
    ],
    [
      "bad port env",
      () => run([], { SWITCHYARD_PORT: "x" }),
      /SWITCHYARD_PORT: expected an integer/,
    ],
    ["bad level", () => run(["--log-level", "loud"]), /--log-level: expected one of trace\|debug/],
    ["bad format", () => run(["--log-format", "xml"]), /expected json or text, found "xml"/],
    ["bad bool", () => run([], { SWITCHYARD_POOL_DEBUG: "yes" }), /expected a boolean/],
    [
      "bad pool name",
      () => run(["--pool-capacity", "Nope=1"]),
      /expected a pool name .* found "Nope"/,
    ],
    [
      "bad pool spec",
      () => run(["--pool-capacity", "WsFrame"]),
      /expected Type=n, found "WsFrame"/,
    ],
    ["zero capacity", () => run(["--pool-capacity", "WsFrame=0"]), /expected an integer in \[1,/],
    [
      "bad mode",
      () => run([], { SWITCHYARD_MODE: "paper" }),
      /expected sim or live, found "paper"/,
    ],
    ["bad host", () => run(["--host", "a b"]), /expected a host name or address/],
    [
      "missing file",
      () => run(["--config", "/missing.json"]),
      /config file \/missing.json: cannot read it/,
    ],
    [
      "bad json",
      () => run(["--config", "/x"], {}, { "/x": "{" }),
      /expected JSON, found a parse error/,
    ],
    ["not an object", () => run(["--config", "/x"], {}, { "/x": "[]" }), /expected a JSON object/],
    ["unknown key", () => run(["--config", "/x"], {}, { "/x": '{"htp":{}}' }), /unknown key "htp"/],
    [
      "bad section",
      () => run(["--config", "/x"], {}, { "/x": '{"http":3}' }),
      /"http" must be an object/,
    ],
    [
      "bad caps",
      () => run(["--config", "/x"], {}, { "/x": '{"pools":{"capacities":[]}}' }),
      /"pools.capacities" must be an object/,
    ],
  ];
  for (const [name, fn, re] of cases) {
    await t.step(name, () => {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof ConfigError, `expected ConfigError, found ${err}`);
        assert.match(err.message, re);
        return true;
      });
    });
  }
});

Deno.test("config file sets every section", () => {
  const files = {
    "/c.json": JSON.stringify({
      mode: "live",
      log: { format: "text" },
      pools: { debug: true, shutdownTimeoutMs: 250, capacities: { ExecReport: 64 } },
    }),
  };
  const c = run([], { SWITCHYARD_CONFIG: "/c.json" }, files);
  assert.equal(c.mode, "live");
  assert.equal(c.log.format, "text");
  assert.equal(c.pools.debug, true);
  assert.equal(c.pools.shutdownTimeoutMs, 250);
  assert.equal(c.pools.capacities.ExecReport, 64);
});

Deno.test("config market-data flags: symbols, simulator, endpoints, view", () => {
  const c = run([
    "--symbols",
    "BTC-USDT, ETH-USDT,BTC-USDT",
    "--sim-rate",
    "2000",
    "--sim-seed",
    "7",
    "--binance-rest",
    "http://127.0.0.1:9000/",
    "--binance-ws",
    "ws://127.0.0.1:9000",
    "--view",
    "off",
  ]);
  assert.deepEqual(c.symbols, ["BTC-USDT", "ETH-USDT"]);
  assert.deepEqual(c.sim, { seed: 7, eventsPerSecond: 2000 });
  assert.deepEqual(c.binance, { restUrl: "http://127.0.0.1:9000", wsUrl: "ws://127.0.0.1:9000" });
  assert.equal(c.view, "off");
  const env = run([], { SWITCHYARD_SYMBOLS: "SOL-USDT" });
  assert.deepEqual(env.symbols, ["SOL-USDT"]);
  const file = run(["--config", "/c.json"], {}, {
    "/c.json": JSON.stringify({
      symbols: ["ADA-USDT"],
      view: "on",
      sim: { seed: 3, eventsPerSecond: 10 },
      binance: { restUrl: "https://api.binance.com", wsUrl: "wss://stream.binance.com:9443" },
    }),
  });
  assert.deepEqual(file.symbols, ["ADA-USDT"]);
  assert.equal(file.view, "on");
  assert.deepEqual(file.sim, { seed: 3, eventsPerSecond: 10 });
  assert.equal(file.binance.wsUrl, "wss://stream.binance.com:9443");
});

Deno.test("config rejects bad market-data settings with clear messages", async (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "lower-case symbol",
      () => run(["--symbols", "btc-usdt"]),
      /expected BASE-QUOTE symbols like BTC-USDT, found "btc-usdt"/,
    ],
    [
      "symbols not a list",
      () => run(["--config", "/x"], {}, { "/x": '{"symbols":3}' }),
      /expected a list of BASE-QUOTE symbols/,
    ],
    [
      "rate zero",
      () => run(["--sim-rate", "0"]),
      /--sim-rate: expected an integer in \[1, 200000\]/,
    ],
    [
      "bad rest url",
      () => run(["--binance-rest", "ftp://x", "--binance-ws", "ws://x"]),
      /--binance-rest: expected a http: or https: URL/,
    ],
    [
      "bad ws url",
      () => run(["--binance-rest", "http://x", "--binance-ws", "http://x"]),
      /--binance-ws: expected a ws: or wss: URL/,
    ],
    [
      "only one endpoint",
      () => run(["--binance-rest", "http://127.0.0.1:1"]),
      /expected both restUrl and wsUrl or neither/,
    ],
    ["bad view", () => run(["--view", "tty"]), /--view: expected auto, on or off, found "tty"/],
  ];
  for (const [name, fn, re] of cases) {
    await t.step(name, () => {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof ConfigError, `expected ConfigError, found ${err}`);
        assert.match(err.message, re);
        return true;
      });
    });
  }
});

Deno.test("config providers: default all discovered, flag and file narrow them, bad names refused", () => {
  assert.deepEqual(run([]).providers, [], "empty: every discovered provider");
  assert.deepEqual(run(["--providers", "okx, binance,okx"]).providers, ["okx", "binance"]);
  assert.deepEqual(
    run(["--config", "/c.json"], {}, { "/c.json": '{"providers":["kraken"]}' }).providers,
    ["kraken"],
  );
  const known = { env: {}, providerNames: ["binance", "kraken", "okx"] };
  assert.deepEqual(loadConfig(["--providers", "okx"], known), {
    kind: "run",
    config: run(["--providers", "okx"]),
  });
  assert.throws(
    () => loadConfig(["--providers", "bitmex"], known),
    /--providers: expected binance or kraken or okx, found "bitmex"/,
  );
  assert.throws(
    () => run(["--providers", "Bit-Mex"]),
    /--providers: expected provider names matching/,
  );
  assert.throws(() => run(["--providers", ""]), /expected a non-empty list/);
});

Deno.test("config --endpoint: repeatable provider.role=url, syntax checked", () => {
  const c = run([
    "--endpoint",
    "okx.rest=http://127.0.0.1:9100/",
    "--endpoint",
    "okx.ws=ws://127.0.0.1:9100/ws/v5/public",
    "--endpoint",
    "okx.businessWs=ws://127.0.0.1:9100/ws/v5/business",
    "--endpoint",
    "kraken.ws=ws://127.0.0.1:9200/v2",
  ]);
  assert.deepEqual(c.endpoints, {
    okx: {
      rest: "http://127.0.0.1:9100",
      ws: "ws://127.0.0.1:9100/ws/v5/public",
      businessWs: "ws://127.0.0.1:9100/ws/v5/business",
    },
    kraken: { ws: "ws://127.0.0.1:9200/v2" },
  });
  assert.deepEqual(run([]).endpoints, {});
  assert.throws(
    () => run(["--endpoint", "okx=ws://x"]),
    /--endpoint: expected <provider>\.<role>=<url>/,
  );
  assert.throws(
    () => run(["--endpoint", "okx.ws=ftp://x"]),
    /--endpoint okx\.ws: expected a http: or https: or ws: or wss: URL/,
  );
});

const TRADER_TOKEN = "trader-token-0123456789";
const ADMIN_TOKEN = "admin-token-0123456789ab";
const DIGEST_A = "a".repeat(64);

Deno.test("config trading: data dir, order timeout, traders and tokens", async (t) => {
  await t.step("defaults", () => {
    const c = run([]);
    assert.equal(c.dataDir, "./data");
    assert.equal(c.orderTimeoutMs, 5000);
    assert.deepEqual(c.traders, {});
    assert.equal(c.adminTokenSha256, "");
  });
  await t.step("file, then env, then flags", () => {
    const files = {
      "/c.json": JSON.stringify({
        dataDir: "/var/lib/sy",
        orderTimeoutMs: 2500,
        traders: { "strat-a": { token_sha256: DIGEST_A.toUpperCase() } },
      }),
    };
    const c = run(["--config", "/c.json", "--order-timeout-ms", "100", "--data-dir", "/tmp/d"], {
      SWITCHYARD_DATA_DIR: "/env/dir",
      SWITCHYARD_TRADER_TOKENS: `strat-b:${TRADER_TOKEN}, strat-a:${TRADER_TOKEN}:with:colons`,
      SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
    }, files);
    assert.equal(c.dataDir, "/tmp/d");
    assert.equal(c.orderTimeoutMs, 100);
    assert.deepEqual(c.traders, {
      // The environment's token replaces the file's for the same id.
      "strat-a": { tokenSha256: sha256(`${TRADER_TOKEN}:with:colons`) },
      "strat-b": { tokenSha256: sha256(TRADER_TOKEN) },
    });
    assert.equal(c.adminTokenSha256, sha256(ADMIN_TOKEN));
    const text = JSON.stringify(c);
    assert.ok(!text.includes(TRADER_TOKEN) && !text.includes(ADMIN_TOKEN), "no plain token kept");
    assert.ok(c.sources.some((s) => s.includes("SWITCHYARD_TRADER_TOKENS")));
    const fileOnly = run(["--config", "/c.json"], {}, files);
    assert.equal(fileOnly.dataDir, "/var/lib/sy");
    assert.equal(fileOnly.orderTimeoutMs, 2500);
    assert.deepEqual(fileOnly.traders, { "strat-a": { tokenSha256: DIGEST_A } }, "lower-cased");
  });
  await t.step("bad values are refused, never echoing a token", () => {
    const cases: [() => unknown, RegExp][] = [
      [
        () => run(["--order-timeout-ms", "99"]),
        /--order-timeout-ms: expected an integer in \[100, 60000\]/,
      ],
      [() => run(["--order-timeout-ms", "60001"]), /expected an integer in \[100, 60000\]/],
      [() => run(["--data-dir", ""]), /--data-dir: expected a directory path/],
      [
        () => run(["--config", "/t.json"], {}, { "/t.json": '{"traders": []}' }),
        /traders: expected an object/,
      ],
      [
        () => run(["--config", "/t.json"], {}, { "/t.json": '{"traders": {"a b": {}}}' }),
        /traders: expected consumer ids of 1\.\.64/,
      ],
      [
        () =>
          run(["--config", "/t.json"], {}, {
            "/t.json": '{"traders": {"strat-a": {"token_sha256": "abc"}}}',
          }),
        /traders\.strat-a: expected \{"token_sha256".*64 hex digits.*3 characters/,
      ],
      [
        () =>
          run(["--config", "/t.json"], {}, {
            "/t.json": JSON.stringify({ traders: { "strat-a": { token: "plain" } } }),
          }),
        /traders\.strat-a: expected \{"token_sha256"/,
      ],
      [
        () => run([], { SWITCHYARD_TRADER_TOKENS: TRADER_TOKEN }),
        /SWITCHYARD_TRADER_TOKENS entry 1: expected <consumer id>:<token>.*found no ':'/,
      ],
      [
        () => run([], { SWITCHYARD_TRADER_TOKENS: "strat-a:short" }),
        /SWITCHYARD_TRADER_TOKENS entry 1 \(consumer "strat-a"\): expected a token of 16\.\.512/,
      ],
      [
        () =>
          run([], {
            SWITCHYARD_TRADER_TOKENS: `strat-a:${TRADER_TOKEN},strat-a:${TRADER_TOKEN}x`,
          }),
        /entry 2: expected each consumer once, found "strat-a" again/,
      ],
      [
        () => run([], { SWITCHYARD_ADMIN_TOKEN: "has space in it 0123456789" }),
        /SWITCHYARD_ADMIN_TOKEN: expected a token of 16\.\.512/,
      ],
    ];
    for (const [fn, re] of cases) {
      assert.throws(fn, (err: Error) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, re);
        assert.ok(!err.message.includes(TRADER_TOKEN) && !err.message.includes("short"));
        assert.ok(!err.message.includes("has space"));
        return true;
      });
    }
  });
});

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
