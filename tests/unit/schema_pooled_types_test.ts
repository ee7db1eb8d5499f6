import assert from "node:assert/strict";
import {
  CanonicalEvent,
  ExecReport,
  MergedEvent,
  OrderRequest,
  ProviderRaw,
  validateCanonicalEvent,
  validateExecReport,
  validateMergedEvent,
  validateOrderRequest,
  validateProviderRaw,
  validateWsFrame,
  WsFrame,
} from "../../src/schema/mod.ts";
import {
  sampleBookUpdate,
  sampleExecReport,
  sampleFrame,
  sampleMerged,
  sampleOrder,
  sampleRaw,
} from "../support/schema_samples.ts";

/** A pooled object seen generically: its fields by key, plus the pooled-type methods. */
type Pooled = Record<PropertyKey, unknown> & {
  reset(): void;
  poison(): void;
  clone(): object;
  copyFrom(data: object): unknown;
};

/** What the generic tests need to know of a pooled type. */
interface PooledCase {
  name: string;
  create: () => Pooled;
  /** Valid plain data for copyFrom / clone / poison tests. */
  sample: () => object;
  validate: (data: object) => string | null;
}

function pooledCase<T extends object, D extends object>(
  ctor: new () => T,
  sample: () => D,
  validate: (data: D) => string | null,
): PooledCase {
  return {
    name: ctor.name,
    create: () => new ctor() as unknown as Pooled,
    sample,
    validate: validate as (data: object) => string | null,
  };
}

const CASES: PooledCase[] = [
  pooledCase(WsFrame, sampleFrame, validateWsFrame),
  pooledCase(ProviderRaw, sampleRaw, validateProviderRaw),
  pooledCase(CanonicalEvent, sampleBookUpdate, validateCanonicalEvent),
  pooledCase(MergedEvent, sampleMerged, validateMergedEvent),
  pooledCase(OrderRequest, sampleOrder, validateOrderRequest),
  pooledCase(ExecReport, sampleExecReport, validateExecReport),
];

/**
 * Sets every own enumerable property to a value unlike its default, by runtime type. Returns
 * the keys it changed; throws on a field type it does not know, so a new kind of field makes
 * the test fail until it is handled here.
 */
function fillEveryField(obj: Record<PropertyKey, unknown>): string[] {
  const touched: string[] = [];
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (typeof value === "string") obj[key] = "x";
    else if (typeof value === "number") obj[key] = 7;
    else if (typeof value === "boolean") obj[key] = !value;
    else if (Array.isArray(value)) value.push("x", { nested: ["y"] });
    else if (value === null) obj[key] = { something: 1 };
    else if (typeof value === "object") obj[key] = { replaced: true };
    else throw new Error(`fillEveryField: no filler for field "${key}" of type ${typeof value}`);
    touched.push(key);
  }
  return touched;
}

for (const c of CASES) {
  Deno.test(`${c.name}.reset() returns every own property to its constructed value`, () => {
    const fresh = c.create();
    const used = c.create();
    const arraysBefore = new Map<PropertyKey, unknown>();
    for (const key of Reflect.ownKeys(used)) {
      if (Array.isArray(used[key])) arraysBefore.set(key, used[key]);
    }

    const touched = fillEveryField(used);
    assert.deepStrictEqual(
      touched.sort(),
      Reflect.ownKeys(used).map(String).sort(),
      "the filler must touch every own property",
    );
    for (const key of Reflect.ownKeys(fresh)) {
      assert.notDeepStrictEqual(used[key], fresh[key], `fill left "${String(key)}" at its default`);
    }

    used.reset();

    assert.deepStrictEqual(Reflect.ownKeys(used).sort(), Reflect.ownKeys(fresh).sort());
    for (const key of Reflect.ownKeys(fresh)) {
      assert.deepStrictEqual(used[key], fresh[key], `reset() left "${String(key)}" dirty`);
    }
    for (const [key, array] of arraysBefore) {
      assert.strictEqual(used[key], array, `reset() replaced array "${String(key)}"`);
    }
  });

  Deno.test(`${c.name}.reset() after poison() also restores every field`, () => {
    const fresh = c.create();
    const used = c.create();
    used.copyFrom(c.sample());
    used.poison();
    used.reset();
    for (const key of Reflect.ownKeys(fresh)) {
      assert.deepStrictEqual(used[key], fresh[key], `"${String(key)}" not reset after poison`);
    }
  });

  Deno.test(`${c.name}.clone() is a plain deep copy with every field`, async (t) => {
    const pooled = c.create();
    pooled.copyFrom(c.sample());
    const copy = pooled.clone() as Record<PropertyKey, unknown>;

    await t.step("plain object with every field, equal to the sample", () => {
      assert.strictEqual(Object.getPrototypeOf(copy), Object.prototype);
      assert.deepStrictEqual(Reflect.ownKeys(copy).sort(), Reflect.ownKeys(pooled).sort());
      assert.deepStrictEqual(copy, c.sample());
    });

    await t.step("arrays are not shared, in either direction", () => {
      for (const key of Reflect.ownKeys(pooled)) {
        const original = pooled[key];
        if (!Array.isArray(original)) continue;
        const copied = copy[key] as unknown[];
        assert.notStrictEqual(copied, original, `"${String(key)}" array shared`);
        const before = structuredClone(original);
        copied.push("mutated");
        assert.deepStrictEqual(original, before, `clone mutation reached "${String(key)}"`);
        original.push("mutated-too");
        assert.strictEqual(copied.includes("mutated-too"), false);
      }
    });

    await t.step("reset of the pooled object leaves the clone intact", () => {
      const other = c.create();
      other.copyFrom(c.sample());
      const again = other.clone();
      other.reset();
      const expected = c.sample();
      assert.deepStrictEqual(again, expected);
    });
  });

  Deno.test(`${c.name}.copyFrom() then clone() gives the data back`, () => {
    const pooled = c.create();
    const data = c.sample();
    pooled.copyFrom(data);
    assert.deepStrictEqual(pooled.clone(), data);
    assert.strictEqual(c.validate(pooled), null);
  });

  Deno.test(`${c.name}: validation fails on a poisoned object`, () => {
    const pooled = c.create();
    pooled.copyFrom(c.sample());
    assert.strictEqual(c.validate(pooled), null);
    pooled.poison();
    const error = c.validate(pooled);
    assert.notStrictEqual(error, null);
    assert.match(error!, /^[a-zA-Z]/);
  });
}

Deno.test("MergedEvent clone deep-copies fragments", () => {
  const m = new MergedEvent().copyFrom(sampleMerged());
  const copy = m.clone();
  assert.notStrictEqual(copy.fragments[0], m.fragments[0]);
  copy.fragments[0].price = "1";
  copy.fragments[1].bids.push("1", "2");
  assert.strictEqual(m.fragments[0].price, "87250.01000000");
  assert.deepStrictEqual(m.fragments[1].bids, []);
  m.fragments[0].qty = "9";
  assert.strictEqual(copy.fragments[0].qty, "0.00100000");
});

Deno.test("MergedEvent.addFragment stores a clone, not the pooled original", () => {
  const m = new MergedEvent();
  const pooled = new CanonicalEvent().copyFrom(sampleBookUpdate());
  m.addFragment(pooled);
  pooled.reset();
  assert.strictEqual(Object.getPrototypeOf(m.fragments[0]), Object.prototype);
  assert.deepStrictEqual(m.fragments[0], sampleBookUpdate());
});

Deno.test("MergedEvent.copyFrom does not share fragments with its source", () => {
  const data = sampleMerged();
  const m = new MergedEvent().copyFrom(data);
  data.fragments[0].price = "1";
  data.providers.push("kraken");
  assert.strictEqual(m.fragments[0].price, "87250.01000000");
  assert.deepStrictEqual(m.providers, ["binance", "okx"]);
});
