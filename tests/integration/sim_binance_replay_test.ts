import assert from "node:assert/strict";
import { parseWsRecording, startBinanceSim } from "../../src/sim/mod.ts";
import { getJson, LocalBook, TestWsClient } from "./sim_binance_ws_client.ts";

// The recordings live beside the project (../shared/data/recordings from the project root) and
// are never copied into it; without them these tests are skipped, visibly.
const RECORDINGS = new URL("../../../shared/data/recordings/", import.meta.url);
const WS_FILE = new URL("binance_spot_ws_2021-10-12.txt", RECORDINGS).pathname;
const HTTP_FILE = new URL("binance_spot_http_2021-10-12.txt", RECORDINGS).pathname;

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const present = exists(WS_FILE) && exists(HTTP_FILE);
if (!present) {
  console.warn(`SKIPPING Binance replay tests: recordings not found in ${RECORDINGS.pathname}`);
}

interface DepthEvent {
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

Deno.test({
  name:
    "replay delivers every recorded frame byte for byte, and the recorded snapshots sync all books",
  ignore: !present,
  async fn() {
    const recording = parseWsRecording(await Deno.readTextFile(WS_FILE));
    const sim = await startBinanceSim({
      replay: { wsFile: WS_FILE, httpFile: HTTP_FILE, speed: 0 },
    });
    const client = await TestWsClient.open(
      `${sim.wsUrl}/stream?streams=${recording.streams.join("/")}`,
    );
    try {
      await client.until(
        () => client.received.length === recording.frames.length,
        5000,
        "all recorded frames",
      );
      assert.deepEqual(client.received.map((r) => r.text), recording.frames.map((f) => f.text));
      // The four books sync with the recorded snapshots and end where the recording says.
      const expected: Record<string, [string, string]> = {
        NKNUSDT: ["0.35270000", "0.35310000"],
        BLZETH: ["0.00006547", "0.00006560"],
        LRCBTC: ["0.00000637", "0.00000638"],
        RUNEEUR: ["6.25100000", "6.26900000"],
      };
      for (const [symbol, [bestBid, bestAsk]] of Object.entries(expected)) {
        const { status, body } = await getJson(
          `${sim.restUrl}/api/v3/depth?symbol=${symbol}&limit=1000`,
        );
        assert.equal(status, 200);
        const book = new LocalBook();
        book.load(
          body as { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] },
        );
        const events = client.matching<{ data: DepthEvent }>((m) =>
          m.stream === `${symbol.toLowerCase()}@depth@100ms`
        )
          .map((m) => m.data);
        const remaining = events.filter((e) => e.u > book.id);
        assert.ok(remaining[0].U <= book.id + 1, `${symbol}: first event covers the snapshot`);
        for (const event of remaining) assert.equal(book.apply(event), "applied", symbol);
        const sorted = book.sorted();
        assert.equal(sorted.bids[0][0], bestBid, `${symbol} best bid`);
        assert.equal(sorted.asks[0][0], bestAsk, `${symbol} best ask`);
      }
      const limited = await getJson(`${sim.restUrl}/api/v3/depth?symbol=NKNUSDT&limit=5`);
      const small = limited.body as { lastUpdateId: number; bids: unknown[] };
      assert.equal(small.lastUpdateId, 499869752);
      assert.equal(small.bids.length, 5);
      const unknown = await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT`);
      assert.equal((unknown.body as { code: number }).code, -1121);
      const info = (await getJson(`${sim.restUrl}/api/v3/exchangeInfo`)).body as {
        symbols: {
          symbol: string;
          baseAsset: string;
          quoteAsset: string;
          filters: { tickSize?: string }[];
        }[];
      };
      assert.deepEqual(info.symbols.map((s) => s.symbol), [
        "BLZETH",
        "LRCBTC",
        "NKNUSDT",
        "RUNEEUR",
      ]);
      const nkn = info.symbols.find((s) => s.symbol === "NKNUSDT")!;
      assert.deepEqual([nkn.baseAsset, nkn.quoteAsset], ["NKN", "USDT"]);
      // Inferred from the finest price in the recording (deep snapshot levels have 5 decimals).
      assert.equal(nkn.filters[0].tickSize, "0.00001000");
    } finally {
      await client.close();
      await sim.close();
    }
  },
});

Deno.test({
  name: "replay keeps the recorded pacing (scaled) and serves raw connections their stream only",
  ignore: !present,
  async fn() {
    const recording = parseWsRecording(await Deno.readTextFile(WS_FILE));
    const spanS = recording.frames.at(-1)!.timeS - recording.frames[0].timeS;
    const speed = 30;
    const sim = await startBinanceSim({ replay: { wsFile: WS_FILE, httpFile: HTTP_FILE, speed } });
    const started = performance.now();
    const raw = await TestWsClient.open(`${sim.wsUrl}/ws/nknusdt@depth@100ms`);
    try {
      const wanted = recording.frames.filter((f) => f.stream === "nknusdt@depth@100ms");
      await raw.until(() => raw.received.length === wanted.length, 5000, "all NKNUSDT diff frames");
      const elapsedMs = performance.now() - started;
      const lastWantedS = wanted.at(-1)!.timeS - recording.frames[0].timeS;
      assert.ok(
        elapsedMs >= (lastWantedS * 1000) / speed * 0.8,
        `expected about ${Math.round((lastWantedS * 1000) / speed)} ms, found ${
          Math.round(elapsedMs)
        } ms`,
      );
      assert.ok(spanS > 20);
      assert.deepEqual(raw.received.map((r) => r.text), wanted.map((f) => f.data));
      assert.ok(raw.received.every((r) => (r.json as { e: string }).e === "depthUpdate"));
    } finally {
      await raw.close();
      await sim.close();
    }
  },
});
