import assert from "node:assert/strict";
import { bookChecksum, KrakenBook } from "../../src/adapter/kraken/mod.ts";
import { OrderBook, type ResyncReason } from "../../src/adapter/shared/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import type { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { createSchemaPools } from "../../src/schema/mod.ts";

function checksumOf(bids: string[], asks: string[]): number {
  const b = new OrderBook();
  b.loadSnapshot(bids, asks);
  return bookChecksum(b);
}

function setup() {
  const pools = createSchemaPools(new PoolManager({ debug: true }));
  const emitted: { kind: string; seq: number; bids: string[]; asks: string[] }[] = [];
  const resubscribes: ResyncReason[] = [];
  const book = new KrakenBook({
    provider: "kraken",
    symbol: "BTC/USD",
    canonicalSymbol: "BTC-USD",
    depth: 2,
    eventPool: pools.canonicalEvent,
    emit: (ev: CanonicalEvent) => {
      const { bids, asks } = ev.clone();
      emitted.push({ kind: ev.kind, seq: ev.seq, bids, asks });
      pools.canonicalEvent.release(ev);
    },
    resubscribe: (reason) => resubscribes.push(reason),
  });
  book.setPrecision({ price: 1, qty: 8 });
  return { pools, book, emitted, resubscribes };
}

Deno.test("kraken book pads trimmed numbers, truncates to depth and numbers events locally", () => {
  const { pools, book, emitted } = setup();
  const bids = ["64000.0", "0.50000000", "63999.9", "1.25000000"];
  const asks = ["64000.1", "0.01000000", "64001.5", "2.00000000"];
  book.onSnapshot(
    {
      bids: [{ price: 64000, qty: 0.5 }, { price: 63999.9, qty: 1.25 }],
      asks: [{ price: 64000.1, qty: 0.01 }, { price: 64001.5, qty: 2 }],
      checksum: checksumOf(bids, asks),
    },
    1,
    0,
  );
  assert.equal(book.state, "LIVE");
  // A better bid pushes 63999.9 out of the depth-2 window: the update says so explicitly.
  const after = ["64000.5", "1.00000000", "64000.0", "0.50000000"];
  book.onUpdate({ bids: [{ price: 64000.5, qty: 1 }], checksum: checksumOf(after, asks) }, 2, 0);
  assert.deepEqual(emitted.map((e) => [e.kind, e.seq]), [["book_snapshot", 1], [
    "book_update",
    2,
  ]]);
  assert.deepEqual(emitted[1].bids, ["64000.5", "1.00000000", "63999.9", "0.00000000"]);
  assert.deepEqual(book.book.top(5).bids, [["64000.5", "1.00000000"], ["64000.0", "0.50000000"]]);
  assert.equal(pools.canonicalEvent.stats().inFlight, 0);
});

Deno.test("kraken book never emits an update whose checksum mismatches and resubscribes", () => {
  const { pools, book, emitted, resubscribes } = setup();
  const bids = ["64000.0", "0.50000000"];
  const asks = ["64000.1", "0.01000000"];
  book.onSnapshot(
    {
      bids: [{ price: 64000, qty: 0.5 }],
      asks: [{ price: 64000.1, qty: 0.01 }],
      checksum: checksumOf(bids, asks),
    },
    1,
    0,
  );
  book.onUpdate({ bids: [{ price: 64000, qty: 0.7 }], checksum: 12345 }, 2, 0);
  assert.equal(emitted.length, 1);
  assert.equal(book.state, "RESYNCING");
  assert.deepEqual(resubscribes, ["checksum_mismatch"]);
  assert.equal(book.book.depth("bid"), 0);
  // Updates of the old subscription are ignored until the next snapshot.
  book.onUpdate({ bids: [], checksum: 0 }, 3, 0);
  assert.equal(emitted.length, 1);
  assert.equal(book.stats().updatesIgnored, 1);
  assert.equal(pools.canonicalEvent.stats().inFlight, 0);
});

Deno.test("kraken book watchdog resyncs as stale when no snapshot follows the ack", () => {
  const { book, resubscribes } = setup();
  book.onAck(1000);
  assert.equal(book.tick(1400, 500, 0), null);
  assert.equal(book.tick(1600, 500, 0), "stale");
  assert.equal(book.state, "STALE");
  assert.deepEqual(resubscribes, ["stale"]);
  assert.equal(book.tick(5000, 500, 0), null, "waits for the next ack");
});
