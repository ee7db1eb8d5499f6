/**
 * Kraken's exact decimals: `decimalText` pads a v2 JSON number (or decimal string) to the
 * pair's precision as text, never through float formatting, so for every decimal with at most
 * the pair's precision (and at most 15 significant digits, which any double holds exactly)
 * the result is the literal padded with zeros.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { decimalText } from "../../src/adapter/kraken/mod.ts";
import { decodeJson } from "../../src/codec/mod.ts";

/** Significant digits any double round-trips exactly. */
const SIGNIFICANT_MAX = 15;

/** A decimal literal `whole.fraction` with `fraction.length <= precision`, and its precision. */
const decimalWithPrecision = fc.integer({ min: 0, max: 12 }).chain((precision) =>
  fc.tuple(
    fc.constant(precision),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: SIGNIFICANT_MAX }),
    fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: precision }),
  ).filter(([, whole, fraction]) => {
    const significant = (whole.join("").replace(/^0+/, "") + fraction.join("")).replace(
      /^0+/,
      "",
    );
    return significant.length <= SIGNIFICANT_MAX;
  }).map(([p, whole, fraction]) => {
    const w = whole.join("").replace(/^0+(?=\d)/, "");
    const literal = fraction.length === 0 ? w : `${w}.${fraction.join("")}`;
    const padded = p === 0 ? w : `${w}.${fraction.join("")}${"0".repeat(p - fraction.length)}`;
    return { precision: p, literal, padded };
  })
);

Deno.test("decimalText: any decimal within the precision becomes the padded literal", async (t) => {
  await t.step("from the JSON number the decoder yields", () => {
    fc.assert(
      fc.property(decimalWithPrecision, ({ precision, literal, padded }) => {
        const body = decodeJson(`{"price":${literal}}`, { provider: "kraken" }) as {
          price: number;
        };
        assert.equal(decimalText(body.price, precision), padded);
      }),
      { numRuns: 2000 },
    );
  });
  await t.step("from the literal as a string", () => {
    fc.assert(
      fc.property(decimalWithPrecision, ({ precision, literal, padded }) => {
        assert.equal(decimalText(literal, precision), padded);
      }),
      { numRuns: 2000 },
    );
  });
});

Deno.test("decimalText: exponent forms are expanded as text", () => {
  assert.equal(decimalText(1e-7, 8), "0.00000010");
  assert.equal(decimalText(1.5e-7, 8), "0.00000015");
  assert.equal(decimalText(1e21, 0), "1000000000000000000000");
  assert.equal(decimalText(1.25e21, 2), "1250000000000000000000.00");
  assert.equal(decimalText(-0, 2), "0.00");
});

Deno.test("decimalText: digits beyond the precision are refused, surplus zeros dropped", () => {
  assert.equal(decimalText(0.12345, 2), null);
  assert.equal(decimalText("0.12345", 2), null);
  assert.equal(decimalText("0.12000", 2), "0.12");
  assert.equal(decimalText("7.0", 0), "7");
  assert.equal(decimalText(Number.NaN, 2), null);
  assert.equal(decimalText(Infinity, 2), null);
  assert.equal(decimalText("1.", 2), null);
  assert.equal(decimalText(1, 101), null);
});
