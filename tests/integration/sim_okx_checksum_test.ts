import assert from "node:assert/strict";
import { checksumText, crc32, okxChecksum } from "../../src/sim/okx/mod.ts";

type Side = [string, string][];

function v6(): { bids: Side; asks: Side } {
  const bids: Side = [];
  const asks: Side = [];
  for (let i = 0; i < 30; i++) {
    bids.push([`${200 - i}.0`, String(i + 1)]);
    asks.push([`${201 + i}.0`, String(i + 1)]);
  }
  return { bids, asks };
}

Deno.test("okx legacy checksum matches the protocol note's test vectors", async (t) => {
  const vectors: { name: string; bids: Side; asks: Side; text?: string; signed: number }[] = [
    {
      name: "V1",
      bids: [["3366.1", "7"], ["3366", "6"]],
      asks: [["3366.8", "9"], ["3368", "8"]],
      text: "3366.1:7:3366.8:9:3366:6:3368:8",
      signed: -1881014294,
    },
    {
      name: "V2",
      bids: [["3366.1", "7"]],
      asks: [["3366.8", "9"], ["3368", "8"], ["3372", "8"]],
      text: "3366.1:7:3366.8:9:3368:8:3372:8",
      signed: 831078360,
    },
    {
      name: "V3 trailing zeros kept",
      bids: [["100.50", "1.000"], ["100.4", "2"], ["100.1", "0.5"]],
      asks: [["100.60", "3"], ["100.7", "0.25"]],
      signed: 2024256432,
    },
    {
      name: "V3' normalised differs",
      bids: [["100.5", "1"], ["100.4", "2"], ["100.1", "0.5"]],
      asks: [["100.6", "3"], ["100.7", "0.25"]],
      signed: -523257151,
    },
    {
      name: "V4 snapshot",
      bids: [["100.5", "1.2"], ["100.4", "0.50"], ["100.0", "3"]],
      asks: [["100.6", "0.8"], ["100.7", "2.25"], ["101", "10"]],
      signed: -875058909,
    },
    {
      name: "V4 after update",
      bids: [["100.5", "1.2"], ["100.45", "0.3"], ["100.0", "3"]],
      asks: [["100.6", "1.0"], ["100.7", "2.25"], ["101", "10"]],
      signed: -771600706,
    },
    { name: "V5 one-sided", bids: [], asks: [["2.5", "1"], ["2.6", "4"]], signed: 784117842 },
    { name: "V6 30x30 uses 25 per side", ...v6(), signed: -1737317385 },
  ];
  for (const v of vectors) {
    await t.step(v.name, () => {
      if (v.text !== undefined) assert.equal(checksumText(v.bids, v.asks), v.text);
      assert.equal(okxChecksum(v.bids, v.asks), v.signed);
    });
  }
  await t.step("V6 text is 431 characters", () => {
    const { bids, asks } = v6();
    const text = checksumText(bids, asks);
    assert.equal(text.length, 431);
    assert.ok(text.startsWith("200.0:1:201.0:1:199.0:2:"));
    assert.ok(text.endsWith("176.0:25:225.0:25"));
  });
  await t.step("crc32 check value", () => {
    assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  });
});
