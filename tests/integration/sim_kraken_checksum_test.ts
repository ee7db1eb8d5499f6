import assert from "node:assert/strict";
import {
  bookChecksum,
  checksumPayload,
  checksumToken,
  crc32Ascii,
  diffSide,
  padDecimal,
} from "../../src/sim/kraken/mod.ts";

type Pairs = [string, string][];
const lv = (pairs: Pairs) => pairs.map(([price, qty]) => ({ price, qty }));

Deno.test("crc32 matches zlib's check value", () => {
  assert.equal(crc32Ascii("123456789"), 0xcbf43926);
  assert.equal(crc32Ascii(""), 0);
});

Deno.test("padDecimal pads and cuts only zeros", () => {
  assert.equal(padDecimal("0.566", 4), "0.5660");
  assert.equal(padDecimal("64000", 1), "64000.0");
  assert.equal(padDecimal("2.00000000", 2), "2.00");
  assert.equal(checksumToken("0.00000500", 8), "500");
  assert.throws(() => padDecimal("0.12345", 4), /at most 4 decimals/);
});

Deno.test("book checksum reproduces the protocol notes' vectors", async (t) => {
  await t.step("K1 official guide BTC/USD (1, 8)", () => {
    const asks = lv([
      ["45285.2", "0.00100000"],
      ["45286.4", "1.54571953"],
      ["45286.6", "1.54571109"],
      ["45289.6", "1.54560911"],
      ["45290.2", "0.15890660"],
      ["45291.8", "1.54553491"],
      ["45294.7", "0.04454749"],
      ["45296.1", "0.35380000"],
      ["45297.5", "0.09945542"],
      ["45299.5", "0.18772827"],
    ]);
    const bids = lv([
      ["45283.5", "0.10000000"],
      ["45283.4", "1.54582015"],
      ["45282.1", "0.10000000"],
      ["45281.0", "0.10000000"],
      ["45280.3", "1.54592586"],
      ["45279.0", "0.07990000"],
      ["45277.6", "0.03310103"],
      ["45277.5", "0.30000000"],
      ["45277.3", "1.54602737"],
      ["45276.6", "0.15445238"],
    ]);
    const precision = { pricePrecision: 1, qtyPrecision: 8 };
    assert.equal(
      checksumPayload({ asks, bids: [] }, precision),
      "45285210000045286415457195345286615457110945289615456091145290215890660452918154553491452947445474945296135380000452975994554245299518772827",
    );
    assert.equal(bookChecksum({ asks, bids }, precision), 3310070434);
  });
  await t.step("K2 MATIC/USD needs padding to (4, 8); K2b update", () => {
    const bids: Pairs = [
      ["0.5666", "4831.75496356"],
      ["0.5665", "6658.22734739"],
      ["0.5664", "18724.91513344"],
      ["0.5663", "11563.92544914"],
      ["0.5662", "14006.65365711"],
      ["0.5661", "17454.85679807"],
      ["0.566", "18097.1547"],
      ["0.5659", "33644.89175666"],
      ["0.5658", "148.3464"],
      ["0.5657", "606.70854372"],
    ];
    const asks = lv([
      ["0.5668", "4410.79769741"],
      ["0.5669", "4655.40412487"],
      ["0.567", "49844.89424998"],
      ["0.5671", "24306.41678"],
      ["0.5672", "29783.25223475"],
      ["0.5673", "57234.71239278"],
      ["0.5674", "45065.04744"],
      ["0.5675", "5912.76380354"],
      ["0.5676", "42514.92434778"],
      ["0.5677", "36304.0847022"],
    ]);
    const precision = { pricePrecision: 4, qtyPrecision: 8 };
    assert.equal(bookChecksum({ asks, bids: lv(bids) }, precision), 2439117997);
    assert.ok(
      checksumPayload({ asks, bids: [] }, precision).startsWith(
        "5668441079769741566946554041248756704984489424998",
      ),
    );
    bids[9] = ["0.5657", "1098.3947558"];
    assert.equal(bookChecksum({ asks, bids: lv(bids) }, precision), 2114181697);
  });
  await t.step("K3 made-up BTC/USD book and update", () => {
    const precision = { pricePrecision: 1, qtyPrecision: 8 };
    const book = {
      bids: lv([["64000.0", "0.50000000"], ["63999.9", "1.25000000"], ["63990.0", "0.00010000"]]),
      asks: lv([["64000.1", "0.01000000"], ["64001.5", "2.00000000"], ["64010.0", "0.30000000"]]),
    };
    assert.equal(bookChecksum(book, precision), 2860026503);
    const after = {
      bids: lv([
        ["64000.0", "0.75"],
        ["63999.9", "1.25000000"],
        ["63995.0", "3.10000000"],
        ["63990.0", "0.00010000"],
      ]),
      asks: lv([["64001.5", "2.00000000"], ["64010.0", "0.30000000"]]),
    };
    assert.equal(bookChecksum(after, precision), 3737079273);
  });
  await t.step("K4 sub-unit prices (5, 8)", () => {
    const book = {
      bids: lv([["0.05005", "12.00000000"], ["0.05004", "0.50000000"]]),
      asks: lv([["0.05010", "0.00000500"], ["0.05011", "100.00000000"]]),
    };
    assert.equal(bookChecksum(book, { pricePrecision: 5, qtyPrecision: 8 }), 2888397460);
  });
  await t.step("K5 and its update", () => {
    const precision = { pricePrecision: 1, qtyPrecision: 8 };
    const book = {
      bids: lv([["50000.0", "1.50000000"], ["49999.5", "0.00012000"], ["49990.1", "10.00000000"]]),
      asks: lv([["50000.1", "0.25000000"], ["50001.0", "0.00000001"], ["50010.0", "3.00000000"]]),
    };
    assert.equal(bookChecksum(book, precision), 3963684476);
    const after = {
      bids: lv([
        ["50000.0", "1.5"],
        ["49999.5", "0.00012"],
        ["49995.0", "2"],
        ["49990.1", "10"],
      ]),
      asks: lv([["50001.0", "0.00000001"], ["50010.0", "3.00000000"]]),
    };
    assert.equal(bookChecksum(after, precision), 2942039314);
  });
  await t.step("only the top 10 levels per side count", () => {
    const precision = { pricePrecision: 0, qtyPrecision: 0 };
    const many = (from: number, step: number) =>
      Array.from({ length: 12 }, (_, i) => ({ price: String(from + step * i), qty: "1" }));
    const full = { bids: many(100, -1), asks: many(200, 1) };
    const cut = { bids: full.bids.slice(0, 10), asks: full.asks.slice(0, 10) };
    assert.equal(bookChecksum(full, precision), bookChecksum(cut, precision));
  });
});

Deno.test("diffSide sends no delete for levels pushed beyond the depth", () => {
  // bids, depth 3: a new best bid pushes 97 out; 99 changes.
  const changes = diffSide([[99, 1], [98, 1], [97, 1]], [[100, 5], [99, 2], [98, 1]], 3, "bid");
  assert.deepEqual(changes, [[100, 5], [99, 2]]);
  // a deletion inside the window refills from below: delete 99, 96 re-enters
  const refill = diffSide([[99, 1], [98, 1], [97, 1]], [[98, 1], [97, 1], [96, 4]], 3, "bid");
  assert.deepEqual(refill, [[96, 4], [99, 0]]);
  // a shrinking side deletes explicitly
  assert.deepEqual(diffSide([[10, 1], [11, 1]], [[10, 1]], 3, "ask"), [[11, 0]]);
});
