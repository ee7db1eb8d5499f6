import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BookSide,
  compareDecimalStrings,
  decimalSortKey,
  OrderBook,
} from "../../src/adapter/shared/order_book.ts";

/** Flat best-first levels of one side, copied out of the book. */
function flat(book: OrderBook, side: BookSide, maxLevels = Infinity): string[] {
  const out: string[] = [];
  book.toFlat(out, side, maxLevels);
  return out;
}

Deno.test("compareDecimalStrings compares plain decimals by exact value", async (t) => {
  await t.step("equal values in different spellings", () => {
    assert.equal(compareDecimalStrings("0.35270000", "0.3527"), 0);
    assert.equal(compareDecimalStrings("001.50", "1.5"), 0);
    assert.equal(compareDecimalStrings("0", "0.000"), 0);
    assert.equal(compareDecimalStrings("10", "10.0"), 0);
  });
  await t.step("integer length, digits and fraction padding decide", () => {
    assert.ok(compareDecimalStrings("10", "9.99999999999999999999") > 0);
    assert.ok(compareDecimalStrings("9.99999999999999999999", "10") < 0);
    assert.ok(compareDecimalStrings("0.1", "0.10000000000000000001") < 0);
    assert.ok(compareDecimalStrings("123.4", "123.39") > 0);
    assert.ok(compareDecimalStrings("0.00000637", "0.00000638") < 0);
    assert.ok(compareDecimalStrings("0007", "6.9") > 0);
  });
  await t.step("anything but a plain non-negative decimal throws", () => {
    for (const bad of ["", ".", "1.", ".5", "1e-8", "-1", "1.2.3", " 1", "0x10", "NaN"]) {
      assert.throws(() => compareDecimalStrings(bad, "1"), RangeError, bad);
      assert.throws(() => compareDecimalStrings("1", bad), RangeError, bad);
    }
  });
});

Deno.test("decimalSortKey is exactly Number(price), fast path or not", () => {
  for (const p of ["0", "0.35270000", "87250.01000000", "0.00000001", "9007199254740991"]) {
    assert.equal(decimalSortKey(p), Number(p), p);
  }
  // Beyond the fast path: more than 2^53 in the digits, or more than 22 fraction digits.
  for (const p of ["9007199254740993", "0.10000000000000001", "1.0000000000000000000000001"]) {
    assert.equal(decimalSortKey(p), Number(p), p);
  }
  assert.throws(() => decimalSortKey("1e5"), /expected a plain decimal string, found "1e5"/);
  const digitsArb = fc.string({
    unit: fc.constantFrom(..."0123456789"),
    minLength: 1,
    maxLength: 20,
  });
  fc.assert(
    fc.property(digitsArb, fc.option(digitsArb), (int, frac) => {
      const p = frac === null ? int : `${int}.${frac}`;
      assert.equal(decimalSortKey(p), Number(p), p);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("apply inserts, updates and removes levels, best first per side", () => {
  const book = new OrderBook();
  assert.equal(book.apply("bid", "100.00", "1"), "inserted");
  assert.equal(book.apply("bid", "101.00", "2"), "inserted");
  assert.equal(book.apply("bid", "99.50", "3"), "inserted");
  assert.equal(book.apply("ask", "102.00", "4"), "inserted");
  assert.equal(book.apply("ask", "101.50", "5"), "inserted");
  assert.deepEqual(flat(book, "bid"), ["101.00", "2", "100.00", "1", "99.50", "3"]);
  assert.deepEqual(flat(book, "ask"), ["101.50", "5", "102.00", "4"]);
  assert.equal(book.bestPrice("bid"), "101.00");
  assert.equal(book.bestQty("bid"), "2");
  assert.equal(book.bestPrice("ask"), "101.50");
  assert.equal(book.bestQty("ask"), "5");

  assert.equal(book.apply("bid", "100.00", "7.5"), "updated", "quantities are absolute");
  assert.equal(book.qtyAt("bid", 1), "7.5");
  assert.equal(book.apply("bid", "101.00", "0.00000000"), "removed");
  assert.equal(book.bestPrice("bid"), "100.00");
  assert.equal(book.apply("ask", "150.00", "0"), "absent", "removing an absent level is normal");
  assert.equal(book.depth("bid"), 2);
  assert.equal(book.depth("ask"), 2);
  assert.equal(book.priceAt("bid", 5), "", "no level at that rank");
  assert.equal(book.priceAt("bid", -1), "");
  book.checkInvariants();
});

Deno.test("one price spelled two ways is one level that keeps the latest spelling", () => {
  const book = new OrderBook();
  book.apply("ask", "0.3527", "10");
  assert.equal(book.apply("ask", "0.35270000", "11"), "updated");
  assert.equal(book.depth("ask"), 1);
  assert.deepEqual(flat(book, "ask"), ["0.35270000", "11"]);
  assert.equal(book.apply("ask", "000.35270", "0.0"), "removed");
  assert.equal(book.depth("ask"), 0);
});

Deno.test("prices beyond double precision are ordered exactly", () => {
  const book = new OrderBook();
  // Number() maps each pair to one double; the exact tie-break must still separate them.
  book.apply("bid", "0.1", "1");
  book.apply("bid", "0.10000000000000001", "2");
  book.apply("bid", "9007199254740993", "3");
  book.apply("bid", "9007199254740992", "4");
  assert.equal(Number("0.1"), Number("0.10000000000000001"));
  assert.equal(Number("9007199254740993"), Number("9007199254740992"));
  assert.deepEqual(flat(book, "bid"), [
    "9007199254740993",
    "3",
    "9007199254740992",
    "4",
    "0.10000000000000001",
    "2",
    "0.1",
    "1",
  ]);
  book.apply("ask", "0.10000000000000001", "1");
  book.apply("ask", "0.1", "1");
  assert.equal(book.bestPrice("ask"), "0.1");
  book.checkInvariants();
});

Deno.test("isCrossed is true when the best bid is at or above the best ask", () => {
  const book = new OrderBook();
  assert.equal(book.isCrossed(), false, "empty book");
  book.apply("bid", "10.0", "1");
  assert.equal(book.isCrossed(), false, "one side only");
  book.apply("ask", "10.1", "1");
  assert.equal(book.isCrossed(), false);
  book.apply("ask", "10.00", "1");
  assert.equal(book.isCrossed(), true, "locked (equal price, other spelling) counts as crossed");
  book.apply("ask", "10.00", "0");
  book.apply("bid", "10.2", "1");
  assert.equal(book.isCrossed(), true);
  book.apply("bid", "10.2", "0");
  assert.equal(book.isCrossed(), false);
  // Equal doubles, different exact values: decided on the digits.
  const fine = new OrderBook();
  fine.apply("bid", "0.1", "1");
  fine.apply("ask", "0.10000000000000001", "1");
  assert.equal(fine.isCrossed(), false);
  fine.apply("bid", "0.10000000000000002", "1");
  assert.equal(fine.isCrossed(), true);
});

Deno.test("loadSnapshot replaces the book from flat best-first levels", async (t) => {
  await t.step("the usual sorted input", () => {
    const book = new OrderBook();
    book.apply("bid", "1", "1");
    book.loadSnapshot(["100.1", "2", "100.0", "1.5"], ["100.2", "0.7", "100.3", "9"]);
    assert.deepEqual(flat(book, "bid"), ["100.1", "2", "100.0", "1.5"]);
    assert.deepEqual(flat(book, "ask"), ["100.2", "0.7", "100.3", "9"]);
    book.checkInvariants();
  });
  await t.step("unsorted input, duplicates and zero quantities are tolerated", () => {
    const book = new OrderBook();
    book.loadSnapshot(
      ["99", "1", "101", "2", "100", "0", "99.0", "3", "98", "4"],
      ["103", "1", "102", "2"],
    );
    assert.deepEqual(flat(book, "bid"), ["101", "2", "99.0", "3", "98", "4"]);
    assert.deepEqual(flat(book, "ask"), ["102", "2", "103", "1"]);
    book.checkInvariants();
  });
  await t.step("keeps the best levelsMax levels per side", () => {
    const book = new OrderBook({ levelsMax: 2 });
    book.loadSnapshot(["5", "1", "4", "1", "3", "1"], ["6", "1", "7", "1", "8", "1"]);
    assert.deepEqual(flat(book, "bid"), ["5", "1", "4", "1"]);
    assert.deepEqual(flat(book, "ask"), ["6", "1", "7", "1"]);
    assert.equal(book.truncatedLevels(), 2);
    const unsorted = new OrderBook({ levelsMax: 2 });
    unsorted.loadSnapshot(["3", "1", "5", "1", "4", "1"], []);
    assert.deepEqual(flat(unsorted, "bid"), ["5", "1", "4", "1"]);
  });
  await t.step("a malformed level throws and leaves the book empty", () => {
    const book = new OrderBook();
    book.apply("bid", "1", "1");
    assert.throws(() => book.loadSnapshot(["1", "1"], ["2", "abc"]), RangeError);
    assert.equal(book.depth("bid"), 0);
    assert.equal(book.depth("ask"), 0);
    assert.throws(() => book.loadSnapshot(["1"], []), /expected price\/qty pairs, found 1/);
  });
  await t.step("5000 levels per side load and grow past the initial capacity", () => {
    const bids: string[] = [];
    const asks: string[] = [];
    for (let i = 0; i < 5000; i++) {
      bids.push((10_000 - i).toFixed(2), "1.0");
      asks.push((10_001 + i).toFixed(2), "2.0");
    }
    const book = new OrderBook();
    book.loadSnapshot(bids, asks);
    assert.equal(book.depth("bid"), 5000);
    assert.equal(book.depth("ask"), 5000);
    assert.equal(book.bestPrice("bid"), "10000.00");
    assert.equal(book.bestPrice("ask"), "10001.00");
    assert.equal(book.truncatedLevels(), 0);
    book.checkInvariants();
  });
});

Deno.test("the level cap evicts the worst level or ignores a worse one", () => {
  const book = new OrderBook({ levelsMax: 3 });
  book.apply("ask", "10", "1");
  book.apply("ask", "11", "1");
  book.apply("ask", "12", "1");
  assert.equal(book.apply("ask", "13", "1"), "beyond_cap", "worse than every kept level");
  assert.equal(book.apply("ask", "9", "1"), "inserted");
  assert.deepEqual(flat(book, "ask"), ["9", "1", "10", "1", "11", "1"], "12 was evicted");
  assert.equal(book.apply("ask", "11", "5"), "updated", "an update needs no room");
  assert.equal(book.truncatedLevels(), 2);
  book.checkInvariants();
});

Deno.test("malformed prices and quantities throw and leave the book unchanged", () => {
  const book = new OrderBook();
  book.apply("bid", "1.5", "2");
  for (const [price, qty] of [["1e5", "1"], ["-1", "1"], ["", "1"], ["2", ""], ["2", "1e3"]]) {
    assert.throws(() => book.apply("bid", price, qty), RangeError, `${price} ${qty}`);
  }
  assert.throws(() => book.apply("middle" as BookSide, "1", "1"), /expected side "bid" or "ask"/);
  assert.deepEqual(flat(book, "bid"), ["1.5", "2"]);
  assert.throws(() => book.applyFlat("bid", ["1"]), /expected price\/qty pairs/);
});

Deno.test("toFlat writes into a reused array and top(n) copies the best levels", () => {
  const book = new OrderBook();
  book.loadSnapshot(["3", "1", "2", "1", "1", "1"], ["4", "1", "5", "2"]);
  const out = ["stale", "stale", "stale", "stale", "stale", "stale", "stale", "stale"];
  const same = out;
  assert.equal(book.toFlat(out, "bid", 2), 2);
  assert.equal(out, same, "the caller's array is reused");
  assert.deepEqual(out, ["3", "1", "2", "1"]);
  assert.equal(book.toFlat(out, "ask", 10), 2);
  assert.deepEqual(out, ["4", "1", "5", "2"]);
  assert.equal(book.toFlat(out, "ask", 0), 0);
  assert.deepEqual(out, []);
  assert.deepEqual(book.top(2), { bids: [["3", "1"], ["2", "1"]], asks: [["4", "1"], ["5", "2"]] });
  book.clear();
  assert.deepEqual(book.top(5), { bids: [], asks: [] });
  assert.equal(book.bestPrice("ask"), "");
});

/** Exact scaled value of a plain decimal (30 fractional digits is enough for the generators). */
function scaled(price: string): bigint {
  const [int, frac = ""] = price.split(".");
  return BigInt(int) * 10n ** 30n + BigInt((frac + "0".repeat(30)).slice(0, 30));
}

/** A naive model: a Map from exact value to the latest [price, qty], sorted on demand. */
class ModelBook {
  readonly sides = { bid: new Map<bigint, [string, string]>(), ask: new Map() };
  constructor(readonly levelsMax: number) {}

  apply(side: BookSide, price: string, qty: string): void {
    const m = this.sides[side];
    const key = scaled(price);
    if (scaled(qty) === 0n) {
      m.delete(key);
      return;
    }
    if (!m.has(key) && m.size === this.levelsMax) {
      const levels = this.sorted(side);
      const worst = scaled(levels[levels.length - 1][0]);
      const better = side === "bid" ? key > worst : key < worst;
      if (!better) return;
      m.delete(worst);
    }
    m.set(key, [price, qty]);
  }

  sorted(side: BookSide): [string, string][] {
    const entries = [...this.sides[side].entries()];
    entries.sort(([a], [b]) => (a === b ? 0 : (a > b) === (side === "bid") ? -1 : 1));
    return entries.map(([, level]) => level);
  }
}

Deno.test("property: the book matches a naive Map model under random operations", () => {
  // Few distinct values in several spellings (so updates and removals hit existing levels) plus
  // values that differ beyond double precision (so the exact tie-break is exercised).
  const priceArb = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 3 })).map(
      ([ticks, zeros]) => {
        const s = (ticks / 4).toFixed(2);
        return zeros === 0 ? s : s + "0".repeat(zeros);
      },
    ),
    fc.constantFrom("5", "5.00000000000000001", "5.00000000000000002", "0005.0"),
  );
  const qtyArb = fc.oneof(
    fc.constantFrom("0", "0.00000000"),
    fc.integer({ min: 1, max: 999 }).map((n) => (n / 10).toFixed(1)),
  );
  const opArb = fc.tuple(fc.constantFrom<BookSide>("bid", "ask"), priceArb, qtyArb);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.array(opArb, { maxLength: 80 }),
      fc.array(opArb, { maxLength: 200 }),
      (levelsMax, snapshotOps, ops) => {
        const book = new OrderBook({ levelsMax });
        const model = new ModelBook(levelsMax);
        // Load a snapshot (arbitrary order, duplicates, zeros), mirrored in the model.
        const snap = { bid: [] as string[], ask: [] as string[] };
        for (const [side, price, qty] of snapshotOps) snap[side].push(price, qty);
        book.loadSnapshot(snap.bid, snap.ask);
        // The book keeps the best levelsMax of the distinct, non-zero, last-written levels.
        const full = new ModelBook(Number.MAX_SAFE_INTEGER);
        for (const [side, price, qty] of snapshotOps) full.apply(side, price, qty);
        for (const side of ["bid", "ask"] as const) {
          for (const [price, qty] of full.sorted(side).slice(0, levelsMax)) {
            model.apply(side, price, qty);
          }
        }
        for (const [side, price, qty] of ops) {
          book.apply(side, price, qty);
          model.apply(side, price, qty);
        }
        book.checkInvariants();
        for (const side of ["bid", "ask"] as const) {
          assert.deepEqual(flat(book, side), model.sorted(side).flat());
        }
        const bids = model.sorted("bid");
        const asks = model.sorted("ask");
        const crossed = bids.length > 0 && asks.length > 0 &&
          scaled(bids[0][0]) >= scaled(asks[0][0]);
        assert.equal(book.isCrossed(), crossed);
      },
    ),
    { numRuns: 500 },
  );
});
