/**
 * `deno task sim` in its own process: it prints one JSON line per provider, and a gateway given
 * those URLs with `--endpoint` carries OKX and Kraken from it (no embedded simulator started).
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { parseSimCliArgs } from "../../src/gateway/sim_cli.ts";
import { setupLogging, teardownLogging } from "../../src/telemetry/mod.ts";
import { waitFor } from "../support/binance_adapter_harness.ts";

const CLI = new URL("../../src/gateway/sim_cli.ts", import.meta.url).pathname;

interface SimLine {
  provider: string;
  urls: Record<string, string>;
  symbols: string[];
}

/** Reads stdout lines until `{"ready":true}`; returns the provider lines. */
async function readUntilReady(reader: ReadableStreamDefaultReader<string>): Promise<SimLine[]> {
  const lines: SimLine[] = [];
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`expected {"ready":true}, found end of output after ${lines.length}`);
    buffered += value;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) !== -1) {
      const parsed = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      if (parsed.ready === true) return lines;
      lines.push(parsed as SimLine);
    }
  }
}

Deno.test("sim CLI flags: providers, rate, seed, ports", () => {
  assert.deepEqual(parseSimCliArgs(["--providers", "okx, kraken", "--port", "okx=9100"]), {
    providers: ["okx", "kraken"],
    eventsPerSecond: 500,
    seed: 1,
    ports: { okx: 9100 },
  });
  assert.equal(parseSimCliArgs(["--help"]), "help");
  assert.throws(() => parseSimCliArgs(["--rate", "fast"]), /--rate: expected an integer/);
});

Deno.test("a gateway carries OKX and Kraken from 'deno task sim' in another process", async () => {
  await setupLogging({ level: "warning", format: "json", write: () => {} });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1,localhost",
      "--allow-read",
      CLI,
      "--providers",
      "okx,kraken",
      "--rate",
      "300",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let gw: Gateway | null = null;
  try {
    const sims = await readUntilReady(reader);
    assert.deepEqual(sims.map((s) => s.provider), ["okx", "kraken"]);
    const endpointFlags = sims.flatMap((s) =>
      Object.entries(s.urls).flatMap((
        [role, url],
      ) => ["--endpoint", `${s.provider}.${role}=${url}`])
    );
    const r = loadConfig([
      "--data-dir",
      ":memory:",
      "--port",
      "0",
      "--view",
      "off",
      "--providers",
      "okx,kraken",
      "--symbols",
      "BTC-USDT,ETH-USDT",
      ...endpointFlags,
    ], { env: {}, providerNames: ["binance", "kraken", "okx"] });
    assert.equal(r.kind, "run");
    if (r.kind !== "run") return;
    gw = await Gateway.start(r.config);
    assert.ok(gw.ready, "ready");
    const feeds = gw.feeds;
    assert.deepEqual(feeds.map((f) => f.provider), ["okx", "kraken"], "in --providers order");
    for (const f of feeds) {
      assert.deepEqual(f.endpoints, sims.find((s) => s.provider === f.provider)!.urls);
      assert.equal((f as unknown as { sim: unknown }).sim, null, "no embedded simulator");
    }
    await waitFor("4 books LIVE", () => {
      const books = feeds.flatMap((f) => f.books());
      return books.length === 4 && books.every((b) => b.state === "LIVE");
    }, { timeoutMs: 8000 });
    await waitFor("trades from both", () => feeds.every((f) => (f.eventsByKind().trade ?? 0) > 0), {
      timeoutMs: 8000,
    });
  } finally {
    await gw?.shutdown("test");
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel();
    await teardownLogging();
  }
});
