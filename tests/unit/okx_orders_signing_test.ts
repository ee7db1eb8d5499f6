import assert from "node:assert/strict";
import {
  okxCredentialsFromEnv,
  okxLoginArg,
  okxLoginSign,
  okxRestHeaders,
  okxRestSign,
} from "../../src/adapter/okx/orders/mod.ts";
import {
  checkOkxLogin,
  checkOkxRestAuth,
  OKX_SIM_CREDENTIALS,
  okxSimSign,
} from "../../src/sim/okx/orders/mod.ts";

const SECRET = "22582BD0CFF14C41EDBF1AB98506286D";
const VECTOR_SIGN = "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=";

/** An independent HMAC (WebCrypto) so the tests do not only compare node:crypto with itself. */
async function webCryptoSign(secret: string, prehash: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(prehash));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

Deno.test("okx login sign matches the protocol notes' §6.1 vector", async () => {
  assert.equal(okxLoginSign(SECRET, "1538054050"), VECTOR_SIGN);
  assert.equal(okxSimSign(SECRET, "1538054050GET/users/self/verify"), VECTOR_SIGN);
  assert.equal(await webCryptoSign(SECRET, "1538054050GET/users/self/verify"), VECTOR_SIGN);
});

Deno.test("okx login arg uses Unix seconds and is accepted by the simulator's check", () => {
  const nowMs = 1_538_054_050_987;
  const arg = okxLoginArg(OKX_SIM_CREDENTIALS, nowMs);
  assert.equal(arg.timestamp, "1538054050");
  assert.equal(arg.sign, VECTOR_SIGN);
  const ok = checkOkxLogin(arg, { accounts: [OKX_SIM_CREDENTIALS], nowMs });
  assert.ok("account" in ok);
});

Deno.test("okx simulator login check answers each failure with its documented code", async (t) => {
  const nowMs = 1_700_000_000_000;
  const accounts = [OKX_SIM_CREDENTIALS];
  const good = okxLoginArg(OKX_SIM_CREDENTIALS, nowMs);
  const code = (arg: unknown, at = nowMs) => {
    const r = checkOkxLogin(arg, { accounts, nowMs: at });
    return "code" in r ? r.code : "ok";
  };
  await t.step("60009 for a malformed arg", () => {
    assert.equal(code(null), "60009");
    assert.equal(code({ apiKey: "k" }), "60009");
  });
  await t.step("60004 for a timestamp that is not Unix seconds", () => {
    assert.equal(code({ ...good, timestamp: "2023-11-14T22:13:20.000Z" }), "60004");
  });
  await t.step("60006 beyond 30 s either way, accepted within", () => {
    assert.equal(code(good, nowMs + 31_000), "60006");
    assert.equal(code(good, nowMs - 31_000), "60006");
    assert.equal(code(good, nowMs + 29_000), "ok");
  });
  await t.step("60005 for an unknown key, 60024 wrong passphrase, 60007 bad sign", () => {
    assert.equal(code({ ...good, apiKey: "nobody" }), "60005");
    assert.equal(code({ ...good, passphrase: "wrong" }), "60024");
    assert.equal(code({ ...good, sign: VECTOR_SIGN }), "60007");
  });
});

Deno.test("okx REST sign is base64 HMAC of timestamp+method+path+body", async () => {
  const parts = {
    timestamp: "2020-12-08T09:08:57.715Z",
    method: "get",
    requestPath: "/api/v5/trade/order?instId=BTC-USDT&clOrdId=sy0001",
  };
  const expected = await webCryptoSign(
    SECRET,
    "2020-12-08T09:08:57.715ZGET/api/v5/trade/order?instId=BTC-USDT&clOrdId=sy0001",
  );
  assert.equal(okxRestSign(SECRET, parts), expected);
  const withBody = okxRestSign(SECRET, { ...parts, method: "POST", body: '{"a":1}' });
  assert.equal(
    withBody,
    await webCryptoSign(
      SECRET,
      '2020-12-08T09:08:57.715ZPOST/api/v5/trade/order?instId=BTC-USDT&clOrdId=sy0001{"a":1}',
    ),
  );
});

Deno.test("okx REST headers pass the simulator's check; each defect has its 50xxx code", async (t) => {
  const nowMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const requestPath = "/api/v5/trade/orders-pending?instType=SPOT";
  const headers = okxRestHeaders(OKX_SIM_CREDENTIALS, { method: "GET", requestPath, nowMs });
  assert.equal(headers["OK-ACCESS-TIMESTAMP"], "2026-01-02T03:04:05.678Z");
  const check = (h: Record<string, string>, at = nowMs, path = requestPath) => {
    const r = checkOkxRestAuth(
      { method: "GET", requestPath: path, body: "", headers: new Headers(h) },
      { accounts: [OKX_SIM_CREDENTIALS], nowMs: at },
    );
    return "code" in r ? r.code : "ok";
  };
  await t.step("accepted as signed", () => assert.equal(check(headers), "ok"));
  await t.step("missing headers: 50103 / 50104 / 50106 / 50107", () => {
    const without = (name: string) => {
      const copy = { ...headers };
      delete copy[name];
      return copy;
    };
    assert.equal(check(without("OK-ACCESS-KEY")), "50103");
    assert.equal(check(without("OK-ACCESS-PASSPHRASE")), "50104");
    assert.equal(check(without("OK-ACCESS-SIGN")), "50106");
    assert.equal(check(without("OK-ACCESS-TIMESTAMP")), "50107");
  });
  await t.step("50112 bad timestamp, 50102 expired, 50111 key, 50105 passphrase", () => {
    assert.equal(check({ ...headers, "OK-ACCESS-TIMESTAMP": "1700000000" }), "50112");
    assert.equal(check(headers, nowMs + 31_000), "50102");
    assert.equal(check({ ...headers, "OK-ACCESS-KEY": "nobody" }), "50111");
    assert.equal(check({ ...headers, "OK-ACCESS-PASSPHRASE": "nope" }), "50105");
  });
  await t.step("50113 when the signed path differs from the requested one", () => {
    assert.equal(check(headers, nowMs, "/api/v5/trade/orders-pending?instType=ANY"), "50113");
  });
});

Deno.test("okx credentials come from the three env vars, null when any is missing", () => {
  const env = (values: Record<string, string>) => ({ get: (name: string) => values[name] });
  const all = {
    SWITCHYARD_OKX_API_KEY: "k",
    SWITCHYARD_OKX_API_SECRET: "s",
    SWITCHYARD_OKX_PASSPHRASE: "p",
  };
  assert.deepEqual(okxCredentialsFromEnv(env(all)), { apiKey: "k", secret: "s", passphrase: "p" });
  assert.equal(okxCredentialsFromEnv(env({ ...all, SWITCHYARD_OKX_PASSPHRASE: "" })), null);
  assert.equal(okxCredentialsFromEnv(env({})), null);
});
