/**
 * The provider registry: the real adapter folders are discovered without a list, a fourth
 * exchange is picked up by adding a folder, malformed modules are refused with clear errors,
 * and docs/architecture.md's "Adding an exchange" names every part the registry checks.
 */

import assert from "node:assert/strict";
import {
  checkEndpointOverrides,
  discoverProviders,
  PROVIDER_FILE,
  ProviderRegistry,
  ProviderRegistryError,
  selectProviders,
  validateProviderModule,
} from "../../src/gateway/provider_registry.ts";

/** A provider.ts that passes validation and imports nothing. */
function validModule(name: string): string {
  return `export const provider = {
  name: ${JSON.stringify(name)},
  liveEndpoints: { rest: "https://api.example.com", ws: "wss://ws.example.com" },
  createFeed: () => Promise.reject(new Error("fixture")),
  startSimulator: () => Promise.reject(new Error("fixture")),
};
`;
}

/** Writes `folders` (name -> provider.ts text, or null for a folder without one) to a temp dir. */
async function withAdapterDir(
  folders: Record<string, string | null>,
  body: (dir: URL) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "provider_registry_" });
  try {
    for (const [folder, text] of Object.entries(folders)) {
      await Deno.mkdir(`${root}/${folder}`);
      if (text !== null) await Deno.writeTextFile(`${root}/${folder}/${PROVIDER_FILE}`, text);
      else await Deno.writeTextFile(`${root}/${folder}/mod.ts`, "export const x = 1;\n");
    }
    await body(new URL(`file://${root}/`));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function rejectsWith(dir: URL, re: RegExp): Promise<void> {
  await assert.rejects(() => discoverProviders({ adapterDir: dir }), (err: unknown) => {
    assert.ok(err instanceof ProviderRegistryError, `expected ProviderRegistryError, found ${err}`);
    assert.match(err.message, re);
    return true;
  });
}

Deno.test("discovers the three real providers in alphabetical order, each well-formed", async () => {
  const registry = await discoverProviders();
  assert.deepEqual(registry.names(), ["binance", "kraken", "okx"]);
  assert.deepEqual(Object.keys(registry.get("okx")!.liveEndpoints), [
    "rest",
    "ws",
    "businessWs",
    "privateWs",
  ]);
  assert.deepEqual(Object.keys(registry.get("binance")!.liveEndpoints), ["rest", "ws", "wsApi"]);
  for (const m of registry.modules) {
    assert.equal(typeof m.createFeed, "function");
    assert.equal(typeof m.startSimulator, "function");
  }
});

Deno.test("each real simulator starts alone with exactly its module's endpoint roles", async () => {
  const registry = await discoverProviders();
  for (const m of registry.modules) {
    const sim = await m.startSimulator({
      hostname: "127.0.0.1",
      port: 0,
      seed: 1,
      eventsPerSecond: 0,
    });
    try {
      assert.deepEqual(Object.keys(sim.urls).sort(), Object.keys(m.liveEndpoints).sort(), m.name);
      assert.ok(sim.symbols.includes("BTC-USDT"), `${m.name} serves BTC-USDT`);
    } finally {
      await sim.close();
    }
  }
});

Deno.test("a fourth exchange is one more folder; folders without provider.ts are skipped", async () => {
  await withAdapterDir({
    zeta: validModule("zeta"),
    alpha: validModule("alpha"),
    shared: null,
  }, async (dir) => {
    const registry = await discoverProviders({ adapterDir: dir });
    assert.deepEqual(registry.names(), ["alpha", "zeta"]);
  });
});

Deno.test("a malformed provider module is refused with a clear error", async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      "no createFeed",
      validModule("beta").replace(/ {2}createFeed: .*\n/, ""),
      /provider module beta\/provider\.ts: expected createFeed, a function, found undefined/,
    ],
    [
      "no provider export",
      "export const feed = {};\n",
      /provider module beta\/provider\.ts: expected an export "provider" .*, found undefined/,
    ],
    [
      "name differs from the folder",
      validModule("gamma"),
      /provider module beta\/provider\.ts: expected the name "beta" \(its folder's name\), found "gamma"/,
    ],
    [
      "live endpoint not a URL",
      validModule("beta").replace('"wss://ws.example.com"', '"ws.example.com"'),
      /expected liveEndpoints\.ws an http\(s\) or ws\(s\) URL, found "ws\.example\.com"/,
    ],
    [
      "createOrderVenue not a function",
      validModule("beta").replace("createFeed:", "createOrderVenue: 42,\n  createFeed:"),
      /expected createOrderVenue undefined or a function, found number/,
    ],
    [
      "does not load",
      "export const provider = {;\n",
      /provider module beta\/provider\.ts: expected it to load, found an error/,
    ],
  ];
  for (const [name, text, re] of cases) {
    await t.step(
      name,
      () =>
        withAdapterDir({ alpha: validModule("alpha"), beta: text }, (dir) => rejectsWith(dir, re)),
    );
  }
  await t.step(
    "no provider at all",
    () =>
      withAdapterDir(
        { shared: null },
        (dir) => rejectsWith(dir, /expected at least one provider\.ts under .*, found none/),
      ),
  );
  await t.step("a bad name", () => {
    assert.throws(
      () => validateProviderModule({ name: "Bad-Name" }, { where: "x/provider.ts", folder: "x" }),
      /expected a name matching \^\[a-z\]\[a-z0-9\]\{1,15\}\$, found "Bad-Name"/,
    );
  });
});

Deno.test("--providers and --endpoint are checked against the registry", async (t) => {
  const fixture = (name: string) =>
    validateProviderModule({
      name,
      liveEndpoints: { rest: "https://api.example.com", ws: "wss://ws.example.com" },
      createFeed: () => Promise.reject(new Error("fixture")),
      startSimulator: () => Promise.reject(new Error("fixture")),
    }, { where: `${name}/provider.ts`, folder: name });
  const registry = new ProviderRegistry([fixture("alpha"), fixture("beta")]);
  await t.step("selection", () => {
    assert.deepEqual(
      selectProviders(registry, { what: "--providers", names: [] }).map((m) => m.name),
      [
        "alpha",
        "beta",
      ],
    );
    assert.deepEqual(
      selectProviders(registry, { what: "--providers", names: ["beta"] }).map((m) => m.name),
      ["beta"],
    );
    assert.throws(
      () => selectProviders(registry, { what: "--providers", names: ["bitmex"] }),
      /--providers: expected alpha or beta, found "bitmex"/,
    );
  });
  await t.step("endpoint overrides", () => {
    const ok = { rest: "http://127.0.0.1:1", ws: "ws://127.0.0.1:1" };
    assert.deepEqual(checkEndpointOverrides(registry, { alpha: ok }).get("alpha"), ok);
    assert.throws(
      () => checkEndpointOverrides(registry, { bitmex: ok }),
      /--endpoint: expected a provider alpha or beta, found "bitmex"/,
    );
    assert.throws(
      () => checkEndpointOverrides(registry, { alpha: { ...ok, fix: "ws://x" } }),
      /--endpoint alpha\.fix: expected a role rest or ws, found "fix"/,
    );
    assert.throws(
      () => checkEndpointOverrides(registry, { alpha: { rest: ok.rest } }),
      /--endpoint alpha: expected every role \(rest, ws\) or none, found ws missing/,
    );
    assert.throws(
      () => checkEndpointOverrides(registry, { alpha: { rest: ok.ws, ws: ok.ws } }),
      /--endpoint alpha\.rest: expected a http: or https: URL, found "ws:/,
    );
  });
});

Deno.test("docs/architecture.md 'Adding an exchange' names both folders and every export", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/architecture.md", import.meta.url));
  const start = doc.indexOf("## Adding an exchange");
  assert.ok(start >= 0, "the section exists");
  const next = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, next === -1 ? undefined : next);
  for (
    const part of [
      "src/adapter/<name>/",
      "src/sim/<name>/",
      "provider.ts",
      "name",
      "liveEndpoints",
      "createFeed",
      "startSimulator",
      "simCredentials",
      "createOrderVenue",
    ]
  ) {
    assert.ok(section.includes(`\`${part}`), `the section names \`${part}\``);
  }
});
