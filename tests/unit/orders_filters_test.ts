import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addDecimal,
  checkOrderFilters,
  compareDecimal,
  divideDecimal,
  formatDecimal,
  isMultipleOf,
  parseDecimal,
  rowIdOfVenueClientId,
  subtractDecimal,
  VENUE_CLIENT_ID_LENGTH_MAX,
  venueClientIdOf,
  type VenueOrder,
} from "../../src/orders/mod.ts";
import { FAKE_BTC_USDT_RULES } from "../support/fake_order_venue.ts";

const ORDER: VenueOrder = {
  venueClientId: "sy00000000001",
  symbol: "BTC-USDT",
  side: "buy",
  orderType: "limit",
  timeInForce: "GTC",
  price: "30000.00",
  qty: "0.00100",
};

Deno.test("exact decimals add, subtract and compare without floats", () => {
  const a = parseDecimal("0.1")!;
  const b = parseDecimal("0.2")!;
  assert.equal(formatDecimal(addDecimal(a, b)), "0.3");
  assert.equal(formatDecimal(subtractDecimal(a, b)), "-0.1");
  assert.equal(compareDecimal(parseDecimal("1.500")!, parseDecimal("1.5")!), 0);
  assert.equal(
    formatDecimal(divideDecimal(parseDecimal("60.3")!, parseDecimal("0.002")!)),
    "30150",
  );
  assert.equal(
    formatDecimal(divideDecimal(parseDecimal("1")!, parseDecimal("3")!)),
    "0.333333333333",
  );
  assert.equal(parseDecimal("1e5"), null);
  assert.equal(parseDecimal(""), null);
  assert.equal(isMultipleOf(parseDecimal("0.3")!, parseDecimal("0.1")!), true);
  assert.equal(isMultipleOf(parseDecimal("0.35")!, parseDecimal("0.1")!), false);
});

Deno.test("exact decimals: formatting round-trips any parsed decimal", () => {
  fc.assert(fc.property(fc.stringMatching(/^-?[0-9]{1,12}(\.[0-9]{1,10})?$/), (text) => {
    const d = parseDecimal(text)!;
    assert.equal(compareDecimal(parseDecimal(formatDecimal(d))!, d), 0);
  }));
});

Deno.test("venue client ids are sy + 11 base-36 digits and parse back", () => {
  assert.equal(venueClientIdOf(1), "sy00000000001");
  assert.equal(venueClientIdOf(36), "sy00000000010");
  const biggest = venueClientIdOf(Number.MAX_SAFE_INTEGER);
  assert.ok(biggest.length <= VENUE_CLIENT_ID_LENGTH_MAX, biggest);
  assert.match(biggest, /^[A-Za-z0-9]+$/);
  fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (id) => {
    const v = venueClientIdOf(id);
    assert.equal(v.length, 13);
    assert.equal(rowIdOfVenueClientId(v), id);
  }));
  for (const bad of ["", "sy", "sy0000000000", "SY00000000001", "xy00000000001", "sy0000000000!"]) {
    assert.equal(rowIdOfVenueClientId(bad), null, bad);
  }
  assert.equal(rowIdOfVenueClientId("sy00000000000"), null, "row ids start at 1");
  assert.throws(
    () => venueClientIdOf(0),
    /expected a journal row id as a safe integer >= 1, found 0/,
  );
});

Deno.test("order filters check tick, step, min qty and min notional exactly", async (t) => {
  const rules = FAKE_BTC_USDT_RULES;
  await t.step("a conforming order passes", () => {
    assert.equal(checkOrderFilters(ORDER, rules), null);
  });
  await t.step("price off the tick", () => {
    assert.equal(
      checkOrderFilters({ ...ORDER, price: "30000.005" }, rules),
      "price: expected a multiple of tick size 0.01, found 30000.005",
    );
  });
  await t.step("qty off the step", () => {
    assert.equal(
      checkOrderFilters({ ...ORDER, qty: "0.000015" }, rules),
      "qty: expected a multiple of step size 0.00001, found 0.000015",
    );
  });
  await t.step("qty below min qty", () => {
    const r = { ...rules, minQty: "0.001" };
    assert.equal(
      checkOrderFilters({ ...ORDER, qty: "0.0009" }, r),
      "qty: expected at least min qty 0.001, found 0.0009",
    );
  });
  await t.step("notional below min notional (exact at the boundary)", () => {
    // 0.00016 × 30000 = 4.8 < 5; 0.00017 × 30000 = 5.1
    assert.equal(
      checkOrderFilters({ ...ORDER, qty: "0.00016" }, rules),
      "notional (price × qty): expected at least min notional 5, found 4.8",
    );
    assert.equal(checkOrderFilters({ ...ORDER, price: "5000.00", qty: "0.001" }, rules), null);
  });
  await t.step("a value a float would get wrong", () => {
    // 0.1 + 0.2 style: 0.3 is a multiple of 0.1 exactly; in floats 0.3 % 0.1 != 0.
    const r = { ...rules, stepSize: "0.1", minQty: "0.1", minNotional: "0" };
    assert.equal(checkOrderFilters({ ...ORDER, qty: "0.3" }, r), null);
  });
  await t.step("market orders skip notional unless given a reference price", () => {
    const market: VenueOrder = {
      ...ORDER,
      orderType: "market",
      timeInForce: "",
      price: "",
      qty: "0.00001",
    };
    assert.equal(checkOrderFilters(market, rules), null);
    assert.match(
      checkOrderFilters(market, rules, { referencePrice: "30000" })!,
      /expected at least min notional 5, found 0\.3/,
    );
  });
  await t.step("zero increments and minimums mean no rule", () => {
    const none = {
      symbol: "BTC-USDT",
      tickSize: "0",
      stepSize: "0",
      minQty: "0",
      minNotional: "0",
    };
    assert.equal(
      checkOrderFilters({ ...ORDER, price: "1.23456789", qty: "0.000000001" }, none),
      null,
    );
  });
  await t.step("rules that are not decimals are a venue bug", () => {
    assert.throws(
      () => checkOrderFilters(ORDER, { ...rules, tickSize: "abc" }),
      /instrument rules of BTC-USDT: expected tickSize as a decimal >= 0, found "abc"/,
    );
  });
});
