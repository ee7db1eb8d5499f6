import assert from "node:assert/strict";
import { crc32Ascii, okxBookChecksum, okxChecksumText } from "../../src/adapter/okx/mod.ts";
import { OrderBook } from "../../src/adapter/shared/mod.ts";

function bookOf(bids: string[], asks: string[]): OrderBook {
  const book = new OrderBook({ levelsMax: 400 });
  book.loadSnapshot(bids, asks);
  return book;
}

Deno.test("crc32Ascii matches the zlib value of a known text", () => {
  assert.equal(crc32Ascii("123456789"), 0xcbf43926);
  assert.equal(crc32Ascii(""), 0);
});

Deno.test("okxBookChecksum reproduces the protocol-note vectors", async (t) => {
  await t.step("V1 both sides two levels", () => {
    const book = bookOf(["3366.1", "7", "3366", "6"], ["3366.8", "9", "3368", "8"]);
    assert.equal(okxChecksumText(book), "3366.1:7:3366.8:9:3366:6:3368:8");
    assert.equal(okxBookChecksum(book), -1881014294);
  });
  await t.step("V2 uneven sides", () => {
    const book = bookOf(["3366.1", "7"], ["3366.8", "9", "3368", "8", "3372", "8"]);
    assert.equal(okxBookChecksum(book), 831078360);
  });
  await t.step("V3 keeps trailing zeros", () => {
    const book = bookOf(["100.50", "1.000", "100.4", "2", "100.1", "0.5"], [
      "100.60",
      "3",
      "100.7",
      "0.25",
    ]);
    assert.equal(okxBookChecksum(book), 2024256432);
  });
  await t.step("V4 snapshot then update", () => {
    const book = bookOf(["100.5", "1.2", "100.4", "0.50", "100.0", "3"], [
      "100.6",
      "0.8",
      "100.7",
      "2.25",
      "101",
      "10",
    ]);
    assert.equal(okxBookChecksum(book), -875058909);
    book.applyFlat("bid", ["100.4", "0", "100.45", "0.3"]);
    book.applyFlat("ask", ["100.6", "1.0"]);
    assert.equal(okxBookChecksum(book), -771600706);
  });
  await t.step("V5 one-sided", () => {
    assert.equal(okxBookChecksum(bookOf([], ["2.5", "1", "2.6", "4"])), 784117842);
  });
  await t.step("V6 only 25 levels per side count", () => {
    const bids: string[] = [];
    const asks: string[] = [];
    for (let i = 0; i < 30; i++) {
      bids.push(`${200 - i}.0`, String(i + 1));
      asks.push(`${201 + i}.0`, String(i + 1));
    }
    const book = bookOf(bids, asks);
    assert.equal(okxChecksumText(book).length, 431);
    assert.equal(okxBookChecksum(book), -1737317385);
  });
});
