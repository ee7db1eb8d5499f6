import assert from "node:assert/strict";
import { Client, type Msg } from "../support/frame_client.ts";
import { okxChecksum, type OkxSim, startOkxSim } from "../../src/sim/okx/mod.ts";

type Level = [string, string, string, string];

interface BookData {
  asks: Level[];
  bids: Level[];
  checksum: number;
  prevSeqId: number;
  seqId: number;
}

/** A client-side book built the way an adapter does: snapshot, then deltas on the chain rule. */
class LocalBook {
  readonly bids = new Map<string, Level>();
  readonly asks = new Map<string, Level>();
  seqId = -1;
  readonly problems: string[] = [];
  applied = 0;
  gaps = 0;
  resets = 0;
  keepAlives = 0;
  badChecksums = 0;

  apply(message: Msg, checkChecksum: boolean): void {
    const data = (message.data as BookData[])[0];
    if (message.action === "snapshot") {
      assert.equal(data.prevSeqId, -1);
      this.bids.clear();
      this.asks.clear();
    } else if (data.prevSeqId !== this.seqId) {
      this.gaps++;
    } else if (data.seqId === data.prevSeqId) {
      this.keepAlives++;
      if (data.asks.length + data.bids.length !== 0) this.problems.push("keep-alive with levels");
    } else if (data.seqId < data.prevSeqId) {
      this.resets++;
    }
    for (const level of data.bids) set(this.bids, level);
    for (const level of data.asks) set(this.asks, level);
    this.seqId = data.seqId;
    this.applied++;
    if (checkChecksum) {
      const { bids, asks } = this.levels();
      if (okxChecksum(bids.slice(0, 25), asks.slice(0, 25)) !== data.checksum) this.badChecksums++;
    } else if (data.checksum !== 0) {
      this.problems.push(`checksum ${data.checksum} in current mode`);
    }
  }

  levels(): { bids: Level[]; asks: Level[] } {
    return {
      bids: [...this.bids.values()].sort((a, b) => Number(b[0]) - Number(a[0])),
      asks: [...this.asks.values()].sort((a, b) => Number(a[0]) - Number(b[0])),
    };
  }
}

function set(side: Map<string, Level>, level: Level): void {
  if (level[1] === "0") side.delete(level[0]);
  else side.set(level[0], level);
}

function isBooks(f: Msg | string): f is Msg {
  return typeof f === "object" && (f.arg as Msg | undefined)?.channel === "books" &&
    Array.isArray(f.data);
}

/** Subscribes to BTC-USDT books and feeds every books push into a LocalBook. */
async function subscribeBook(sim: OkxSim, checkChecksum: boolean) {
  const client = await Client.open(sim.wsUrl);
  const book = new LocalBook();
  let consumed = 0;
  const pump = () => {
    const books = client.frames.filter(isBooks);
    for (; consumed < books.length; consumed++) book.apply(books[consumed], checkChecksum);
  };
  client.send({ op: "subscribe", args: [{ channel: "books", instId: "BTC-USDT" }] });
  await client.waitFor(isBooks);
  return {
    client,
    book,
    async until(predicate: () => boolean, timeoutMs = 4000): Promise<void> {
      await client.waitFor(() => {
        pump();
        return predicate();
      }, timeoutMs);
    },
  };
}

async function withSim(
  options: Parameters<typeof startOkxSim>[0],
  body: (sim: OkxSim) => Promise<void>,
): Promise<void> {
  const sim = await startOkxSim({ seed: 11, symbols: ["BTC-USDT", "ETH-USDT"], ...options });
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

Deno.test("okx books snapshot plus chained updates rebuild the simulator's book", async (t) => {
  await withSim({ eventsPerSecond: 5000, booksIntervalMs: 20 }, async (sim) => {
    const { client, book, until } = await subscribeBook(sim, false);
    await t.step("the first push is a snapshot with prevSeqId -1, trailing zeros kept", () => {
      const first = client.frames.find(isBooks)!;
      assert.equal(first.action, "snapshot");
      const data = (first.data as BookData[])[0];
      assert.equal(data.prevSeqId, -1);
      assert.ok(data.bids.length > 10 && data.bids.length <= 400);
      assert.match(data.bids[0][0], /^\d+\.\d\d$/);
      assert.equal(data.bids[0][2], "0");
    });
    await t.step("every update chains on the last seqId and the books match", async () => {
      await until(() => book.applied >= 30);
      sim.pause();
      const expected = sim.bookSnapshot("BTC-USDT");
      await until(() => book.seqId === expected.seqId);
      assert.equal(book.gaps, 0);
      assert.deepEqual(book.problems, []);
      assert.deepEqual(book.levels(), { bids: expected.bids, asks: expected.asks });
    });
    await t.step("REST books carries the seqId of the chain", async () => {
      const res = await fetch(`${sim.restUrl}/api/v5/market/books?instId=BTC-USDT&sz=5`);
      const body = await res.json() as { code: string; data: (BookData & { seqId: number })[] };
      assert.equal(body.code, "0");
      assert.equal(body.data[0].seqId, book.seqId);
      assert.equal(body.data[0].bids.length, 5);
      assert.deepEqual(body.data[0].bids, book.levels().bids.slice(0, 5));
    });
    await client.close();
  });
});

Deno.test("okx books keep-alive, sequence reset and gap faults are observable", async (t) => {
  await withSim(
    { eventsPerSecond: 3000, booksIntervalMs: 20, booksHeartbeatMs: 100 },
    async (sim) => {
      const { client, book, until } = await subscribeBook(sim, false);
      await t.step("a reset has seqId < prevSeqId and prevSeqId == last; no gap", async () => {
        sim.faults.resetSequence("BTC-USDT");
        await until(() => book.resets === 1);
        assert.equal(book.gaps, 0);
        assert.equal(sim.stats().sequenceResets, 1);
      });
      await t.step("with the market paused, empty keep-alives repeat the seqId", async () => {
        sim.pause();
        await until(() => book.keepAlives >= 2);
        assert.equal(book.gaps, 0);
        assert.deepEqual(book.problems, []);
        sim.resume();
      });
      await t.step("a gap makes prevSeqId differ from the last seqId seen", async () => {
        sim.faults.gap("BTC-USDT");
        await until(() => book.gaps === 1);
        assert.equal(sim.stats().gapsInjected, 1);
      });
      await client.close();
    },
  );
});

Deno.test("okx books legacy checksum mode matches the local book; corruption is visible", async (t) => {
  await withSim(
    { eventsPerSecond: 5000, booksIntervalMs: 20, checksumMode: "legacy" },
    async (sim) => {
      const { client, book, until } = await subscribeBook(sim, true);
      await t.step("checksums of snapshot and updates are right", async () => {
        await until(() => book.applied >= 20);
        assert.equal(book.badChecksums, 0);
      });
      await t.step("corruptChecksum makes exactly one update's checksum wrong", async () => {
        const applied = book.applied;
        sim.faults.corruptChecksum("BTC-USDT");
        await until(() => book.applied >= applied + 10 && book.badChecksums > 0);
        assert.equal(book.badChecksums, 1);
        assert.equal(book.gaps, 0);
      });
      await client.close();
    },
  );
});

Deno.test("okx connection faults: stall silences pongs, disconnect cuts the socket", async (t) => {
  await withSim({ eventsPerSecond: 1000 }, async (sim) => {
    const client = await Client.open(sim.wsUrl);
    client.send({ op: "subscribe", args: [{ channel: "trades", instId: "BTC-USDT" }] });
    await client.waitFor((f) => typeof f === "object" && f.event === "subscribe");
    await t.step("stalled: no pong while it lasts, frames counted as dropped", async () => {
      assert.equal(sim.faults.stall(400), 1);
      client.send("ping");
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(!client.frames.includes("pong"));
      assert.ok(sim.stats().framesDropped >= 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      client.send("ping");
      await client.waitFor((f) => f === "pong");
    });
    await t.step("disconnect drops the TCP connection without a clean close", async () => {
      assert.equal(sim.faults.disconnect(), 1);
      const event = await client.closed;
      assert.equal(event.wasClean, false);
    });
  });
});
