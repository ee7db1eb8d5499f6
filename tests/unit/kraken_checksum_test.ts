import assert from "node:assert/strict";
import {
  bookChecksum,
  checksumToken,
  crc32Ascii,
  decimalText,
} from "../../src/adapter/kraken/mod.ts";
import { OrderBook } from "../../src/adapter/shared/mod.ts";

/** A book from `[price, qty]` numbers padded to (pp, qp), as the adapter stores them. */
function bookOf(
  bids: [number, number][],
  asks: [number, number][],
  pp: number,
  qp: number,
): OrderBook {
  const flat = (levels: [number, number][]) =>
    levels.flatMap(([p, q]) => [decimalText(p, pp)!, decimalText(q, qp)!]);
  const book = new OrderBook();
  book.loadSnapshot(flat(bids), flat(asks));
  return book;
}

Deno.test("crc32 matches the zlib check value", () => {
  assert.equal(crc32Ascii("123456789"), 0xcbf43926);
  assert.equal(crc32Ascii("6789", crc32Ascii("12345")), 0xcbf43926);
});

Deno.test("decimals are padded to the pair precision and tokens strip leading zeros", () => {
  assert.equal(decimalText(0.566, 4), "0.5660");
  assert.equal(decimalText(64000, 1), "64000.0");
  assert.equal(decimalText(0.000005, 8), "0.00000500");
  assert.equal(decimalText("0.5", 8), "0.50000000");
  assert.equal(decimalText(-1, 2), null);
  assert.equal(decimalText("1e5", 2), null);
  assert.equal(checksumToken("0.00000500"), "500");
  assert.equal(checksumToken("64000.0"), "640000");
});

Deno.test("checksum reproduces the protocol notes' vectors from trimmed numbers", async (t) => {
  await t.step("doc sample book (pp 1, qp 8)", () => {
    const book = bookOf([[64000.0, 0.5], [63999.9, 1.25]], [[64000.1, 0.01], [64001.5, 2]], 1, 8);
    assert.equal(bookChecksum(book), 2188515954);
    book.apply("ask", "64000.1", "0.00000000");
    assert.equal(bookChecksum(book), 3130167173);
  });
  await t.step("K3 and its update", () => {
    const book = bookOf(
      [[64000.0, 0.5], [63999.9, 1.25], [63990.0, 0.0001]],
      [[64000.1, 0.01], [64001.5, 2], [64010.0, 0.3]],
      1,
      8,
    );
    assert.equal(bookChecksum(book), 2860026503);
    book.apply("ask", "64000.1", "0.00000000");
    book.apply("bid", "64000.0", decimalText(0.75, 8)!);
    book.apply("bid", "63995.0", decimalText(3.1, 8)!);
    assert.equal(bookChecksum(book), 3737079273);
  });
  await t.step("K4 sub-unit prices (pp 5, qp 8)", () => {
    const book = bookOf(
      [[0.05005, 12], [0.05004, 0.5]],
      [[0.0501, 0.000005], [0.05011, 100]],
      5,
      8,
    );
    assert.equal(bookChecksum(book), 2888397460);
  });
  await t.step("K5 and its update", () => {
    const book = bookOf(
      [[50000.0, 1.5], [49999.5, 0.00012], [49990.1, 10]],
      [[50000.1, 0.25], [50001.0, 0.00000001], [50010.0, 3]],
      1,
      8,
    );
    assert.equal(bookChecksum(book), 3963684476);
    book.apply("ask", "50000.1", "0.00000000");
    book.apply("bid", "49995.0", "2.00000000");
    assert.equal(bookChecksum(book), 2942039314);
  });
  await t.step("unpadded tokens would not match (padding is mandatory)", () => {
    const book = new OrderBook();
    book.loadSnapshot(["64000", "0.5"], ["64000.1", "0.01"]);
    assert.notEqual(
      bookChecksum(book),
      bookChecksum(bookOf([[64000, 0.5]], [[64000.1, 0.01]], 1, 8)),
    );
  });
});
