/**
 * Kraken API-Sign (protocol notes kraken.md §6.1): both published vectors, through the venue's
 * signer and the simulator's independent checker; exact decimal handling of v2 numbers; and
 * credentials from the environment.
 */
import assert from "node:assert/strict";
import {
  formatDecimal,
  krakenApiSign,
  krakenCredentialsFromEnv,
  parseExactJson,
  plainDecimal,
} from "../../src/adapter/kraken/orders/mod.ts";
import { KRAKEN_SIM_CREDENTIALS } from "../../src/sim/kraken/mod.ts";
import { krakenSimApiSign } from "../../src/sim/kraken/orders/mod.ts";

const SECRET =
  "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";

const VECTORS = [
  {
    name: "AddOrder (Kraken's published example)",
    path: "/0/private/AddOrder",
    nonce: "1616492376594",
    postData: "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
    sign:
      "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==",
  },
  {
    name: "GetWebSocketsToken",
    path: "/0/private/GetWebSocketsToken",
    nonce: "1700000000000",
    postData: "nonce=1700000000000",
    sign:
      "L/HkUJA19dVkFWobMGRZ+ieHJspDjuRKCO4HaDSDOJLC6G5uhsGzdjFlh7pqRkri+0xgT0dgSyICpRtNqxzHsg==",
  },
];

Deno.test("the venue's signer reproduces both §6.1 API-Sign vectors", async (t) => {
  for (const v of VECTORS) {
    await t.step(v.name, async () => {
      const sign = await krakenApiSign(v.path, {
        nonce: v.nonce,
        postData: v.postData,
        secret: SECRET,
      });
      assert.equal(sign, v.sign);
    });
  }
});

Deno.test("the simulator's checker reproduces both §6.1 API-Sign vectors", async (t) => {
  for (const v of VECTORS) {
    await t.step(v.name, async () => {
      const sign = await krakenSimApiSign(v.path, {
        nonce: v.nonce,
        postData: v.postData,
        secret: SECRET,
      });
      assert.equal(sign, v.sign);
    });
  }
});

Deno.test("the simulator's default secret is the §6.1 vector secret", () => {
  assert.equal(KRAKEN_SIM_CREDENTIALS.secret, SECRET);
});

Deno.test("a signature changes with the path, the nonce and the body", async () => {
  const base = { nonce: "1", postData: "nonce=1", secret: SECRET };
  const a = await krakenApiSign("/0/private/OpenOrders", base);
  assert.notEqual(a, await krakenApiSign("/0/private/ClosedOrders", base));
  assert.notEqual(a, await krakenApiSign("/0/private/OpenOrders", { ...base, nonce: "2" }));
  assert.notEqual(
    a,
    await krakenApiSign("/0/private/OpenOrders", { ...base, postData: "nonce=1&x=1" }),
  );
});

Deno.test("a secret that is not base64 is refused without echoing it", async () => {
  await assert.rejects(
    krakenApiSign("/0/private/X", { nonce: "1", postData: "nonce=1", secret: "not*base64!" }),
    (error: Error) => !error.message.includes("not*base64!"),
  );
});

Deno.test("v2 numbers keep their exact source text", () => {
  const parsed = parseExactJson(
    '{"order_qty":0.10000000,"limit_price":63000.0,"tiny":1e-7,"sequence":12,"s":"x"}',
  ) as Record<string, unknown>;
  assert.deepEqual(parsed, {
    order_qty: "0.10000000",
    limit_price: "63000.0",
    tiny: "1e-7",
    sequence: "12",
    s: "x",
  });
  // Digits inside strings (timestamps, escaped quotes) are left alone; arrays are covered.
  assert.deepEqual(
    parseExactJson('{"t":"2026-01-01T00:00:10.5Z","e":"a\\"1,","n":[-2.5e3,7]}'),
    { t: "2026-01-01T00:00:10.5Z", e: 'a"1,', n: ["-2.5e3", "7"] },
  );
});

Deno.test("decimals are padded to a precision without a float round trip", () => {
  assert.equal(formatDecimal("0.5", 8), "0.50000000");
  assert.equal(formatDecimal("63000", 2), "63000.00");
  assert.equal(formatDecimal("0.123456789", 2), "0.123456789");
  assert.equal(formatDecimal("1e-7", 8), "0.00000010");
  assert.equal(formatDecimal("0.1", 0), "0.1");
  assert.equal(plainDecimal("1.5E+3"), "1500");
  assert.equal(plainDecimal("12.5e-1"), "1.25");
  assert.equal(plainDecimal("abc"), undefined);
  // 0.1 + 0.2 would be 0.30000000000000004 as doubles; texts stay exact.
  assert.equal(formatDecimal("0.30000000000000000001", 8), "0.30000000000000000001");
});

Deno.test("credentials come from SWITCHYARD_KRAKEN_API_KEY/_API_SECRET, null when unset", () => {
  const env = new Map([
    ["SWITCHYARD_KRAKEN_API_KEY", "k"],
    ["SWITCHYARD_KRAKEN_API_SECRET", "s"],
  ]);
  assert.deepEqual(krakenCredentialsFromEnv((n) => env.get(n)), { apiKey: "k", secret: "s" });
  env.delete("SWITCHYARD_KRAKEN_API_SECRET");
  assert.equal(krakenCredentialsFromEnv((n) => env.get(n)), null);
  assert.equal(krakenCredentialsFromEnv(() => undefined), null);
});
