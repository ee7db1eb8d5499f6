/**
 * JSON engines: simdjson detection (real and injected failure modes, including the package's
 * silent fallback to the global JSON), parse equivalence with V8, per-shape engine selection,
 * the startup description, and the encoder.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BINANCE_SHAPES,
  codecDescription,
  DecodeError,
  decodeJson,
  DEFAULT_ENGINE_BY_SHAPE,
  detectJsonEngines,
  effectiveEngineByShape,
  encodeJson,
  type EngineReport,
  loadSimdjsonEngine,
  V8_JSON_ENGINE,
} from "../../src/codec/mod.ts";

Deno.test("detection reports the real simdjson addon honestly", async () => {
  const report = await detectJsonEngines();
  assert.equal(report.v8Json.available, true);
  assert.ok(report.simdjson.reason.length > 0);
  let mod: unknown = null;
  let importError: unknown = null;
  try {
    mod = (await import("simdjson")).default;
  } catch (e) {
    importError = e;
  }
  if (report.simdjson.available) {
    // This environment builds the addon (deno task build:native) and tests run with --allow-ffi.
    assert.notEqual(mod, JSON);
    assert.equal(typeof (mod as { lazyParse?: unknown }).lazyParse, "function");
    assert.match(report.simdjson.reason, /native addon loaded/);
  } else {
    console.log(`simdjson reported unavailable: ${report.simdjson.reason}`);
    assert.ok(mod === JSON || importError !== null, "unavailable must mean fallback or failure");
  }
});

Deno.test("the package's silent fallback to the global JSON is reported unavailable", async () => {
  const had = Object.hasOwn(JSON, "isValid");
  // What simdjson@0.9.2 does without its build: attach isValid to JSON and export JSON itself.
  const { engine, status } = await loadSimdjsonEngine({
    importModule: () => {
      (JSON as unknown as Record<string, unknown>).isValid = () => true;
      return Promise.resolve({ default: JSON });
    },
  });
  assert.equal(engine, null);
  assert.equal(status.available, false);
  assert.match(status.reason, /fell back to the global JSON object/);
  assert.match(status.reason, /build:native/);
  assert.equal(Object.hasOwn(JSON, "isValid"), had, "expected the global JSON left as found");
});

Deno.test("a missing ffi permission is reported as the reason", async () => {
  const { engine, status } = await loadSimdjsonEngine({
    importModule: () =>
      Promise.reject(new Deno.errors.NotCapable('Requires ffi access to "simdjson.node"')),
  });
  assert.equal(engine, null);
  assert.match(status.reason, /--allow-ffi/);
  assert.match(status.reason, /NotCapable: Requires ffi access/);
});

Deno.test("other load failures never throw and say what happened", async (t) => {
  await t.step("import error", async () => {
    const r = await loadSimdjsonEngine({
      importModule: () => Promise.reject(new TypeError("boom")),
    });
    assert.equal(r.engine, null);
    assert.match(r.status.reason, /import of npm:simdjson failed: TypeError: boom/);
  });
  await t.step("module without the addon's functions", async () => {
    const r = await loadSimdjsonEngine({
      importModule: () => Promise.resolve({ default: { parse: JSON.parse } }),
    });
    assert.equal(r.engine, null);
    assert.match(r.status.reason, /expected the native addon's parse and lazyParse/);
  });
  await t.step("addon whose parse is wrong", async () => {
    const r = await loadSimdjsonEngine({
      importModule: () =>
        Promise.resolve({ default: { parse: () => ({}), lazyParse: () => ({}) } }),
    });
    assert.equal(r.engine, null);
    assert.match(r.status.reason, /probe parse differs/);
  });
  await t.step("addon whose parse throws", async () => {
    const r = await loadSimdjsonEngine({
      importModule: () =>
        Promise.resolve({
          default: {
            parse: () => {
              throw new Error("bad");
            },
            lazyParse: () => ({}),
          },
        }),
    });
    assert.equal(r.engine, null);
    assert.match(r.status.reason, /probe parse threw Error: bad/);
  });
});

Deno.test("the simdjson engine parses like JSON.parse (when available)", async () => {
  const { engine, status } = await loadSimdjsonEngine();
  if (!engine) {
    console.log(`simdjson unavailable (${status.reason}): equivalence not checked`);
    return;
  }
  assert.equal(engine.name, "simdjson");
  fc.assert(
    fc.property(fc.json({ maxDepth: 4 }), (text) => {
      let parsed: unknown;
      try {
        parsed = engine.parse(text);
      } catch (e) {
        // The one known difference: simdjson rejects integer literals outside 64 bits
        // ("Problem while parsing a number") where JSON.parse rounds them to a double.
        assert.match(String(e), /number/);
        const outside = [...text.matchAll(/(?<![\d.eE])-?\d+(?![\d.eE])/g)].some((m) => {
          const n = BigInt(m[0]);
          return n < -(2n ** 63n) || n >= 2n ** 64n;
        });
        assert.ok(outside, `unexpected rejection of ${text}`);
        return;
      }
      assert.deepEqual(parsed, JSON.parse(text));
    }),
    { numRuns: 1000 },
  );
  for (const bad of ["", "{", '{"a":}', "[1,]", "garbage", '{"a":1}}', "'x'"]) {
    assert.throws(() => JSON.parse(bad));
    assert.throws(() => engine.parse(bad), `expected simdjson to reject ${bad}`);
  }
});

Deno.test("decodeJson turns any engine error into DecodeError", () => {
  assert.deepEqual(decodeJson('{"a":[1,"x"]}'), { a: [1, "x"] });
  assert.throws(
    () => decodeJson('{"a":1,}', { provider: "okx" }),
    (e: unknown) =>
      e instanceof DecodeError && e.provider === "okx" && typeof e.offset === "number" &&
      e.sample === '{"a":1,}',
  );
});

Deno.test("per-shape engine table covers every shape and uses only available engines", () => {
  for (const shape of BINANCE_SHAPES) assert.ok(DEFAULT_ENGINE_BY_SHAPE[shape], shape);
  for (const shape of ["trade", "aggTrade", "depthUpdate", "bookTicker"] as const) {
    assert.equal(DEFAULT_ENGINE_BY_SHAPE[shape], "specialised", shape);
  }
  const table = { ...DEFAULT_ENGINE_BY_SHAPE, kline: "simdjson" as const };
  assert.equal(effectiveEngineByShape({ simdjson: true }, table).kline, "simdjson");
  assert.equal(effectiveEngineByShape({ simdjson: false }, table).kline, "v8-json");
  assert.equal(effectiveEngineByShape({ simdjson: false }, table).trade, "specialised");
});

Deno.test("the startup description names every engine and its state", () => {
  const up: EngineReport = {
    v8Json: { available: true, reason: "built into V8" },
    simdjson: { available: true, reason: "native addon loaded (Node-API)" },
  };
  const down: EngineReport = {
    v8Json: up.v8Json,
    simdjson: { available: false, reason: "native addon not built" },
  };
  const a = codecDescription(up);
  assert.match(a, /^json engines: v8-json \(active\), simdjson \(native addon loaded/);
  assert.match(a, /binance trade\/aggTrade\/depthUpdate\/bookTicker: specialised/);
  const b = codecDescription(down);
  assert.match(b, /simdjson \(UNAVAILABLE: native addon not built\)/);
  assert.match(b, /: v8-json/);
});

Deno.test("V8 engine and encoder round-trip JSON values", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      assert.deepEqual(V8_JSON_ENGINE.parse(encodeJson(v)), JSON.parse(JSON.stringify(v)));
    }),
    { numRuns: 300 },
  );
  assert.equal(encodeJson({ v: 1, kind: "trade" }), '{"v":1,"kind":"trade"}');
  assert.throws(() => encodeJson(undefined), TypeError);
  assert.throws(() => encodeJson(() => 1), TypeError);
});
