import assert from "node:assert/strict";
import {
  CanonicalEvent,
  ExecReport,
  LEVELS_RETAINED_MAX,
  MergedEvent,
  OrderRequest,
  POISON_STRING,
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
  /**
   * Storage kept across `reset()` (not data): store key -> the count field saying how much of it
   * is in use, and the plain array the clone shows instead (exactly the used part).
   */
  stores: Readonly<Record<string, { count: string; clone: string }>>;
}

function pooledCase<T extends object, D extends object>(
  ctor: new () => T,
  sample: () => D,
  validate: (data: D) => string | null,
  stores: PooledCase["stores"] = {},
): PooledCase {
  return {
    name: ctor.name,
    create: () => new ctor() as unknown as Pooled,
    sample,
    validate: validate as (data: object) => string | null,
    stores,
  };
}

/** Level storage of CanonicalEvent and ProviderRaw (same names, same conventions). */
const LEVEL_STORES = {
  bidStore: { count: "bidsLength", clone: "bids" },
  askStore: { count: "asksLength", clone: "asks" },
};

const CASES: PooledCase[] = [
  pooledCase(WsFrame, sampleFrame, validateWsFrame),
  pooledCase(ProviderRaw, sampleRaw, validateProviderRaw, LEVEL_STORES),
  pooledCase(CanonicalEvent, sampleBookUpdate, validateCanonicalEvent, LEVEL_STORES),
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

/** Retained storage after reset: every slot "" (no stale value reachable, nothing readable). */
function assertNoData(store: unknown, key: PropertyKey): void {
  assert.ok(Array.isArray(store), `"${String(key)}" is no longer an array`);
  for (let i = 0; i < store.length; i++) {
    assert.strictEqual(store[i], "", `reset() left data in "${String(key)}"[${i}]`);
  }
}

/** The keys a clone must have: the pooled object's, with each store and count as its array. */
function cloneKeysOf(c: PooledCase, pooled: Pooled): string[] {
  const counts = new Set(Object.values(c.stores).map((s) => s.count));
  return Reflect.ownKeys(pooled)
    .map(String)
    .filter((k) => !counts.has(k))
    .map((k) => c.stores[k]?.clone ?? k)
    .sort();
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
      if (Object.hasOwn(c.stores, key)) assertNoData(used[key], key);
      else assert.deepStrictEqual(used[key], fresh[key], `reset() left "${String(key)}" dirty`);
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
      if (Object.hasOwn(c.stores, key)) assertNoData(used[key], key);
      else assert.deepStrictEqual(used[key], fresh[key], `"${String(key)}" not reset after poison`);
    }
  });

  Deno.test(`${c.name}.clone() is a plain deep copy with every field`, async (t) => {
    const pooled = c.create();
    pooled.copyFrom(c.sample());
    const copy = pooled.clone() as Record<PropertyKey, unknown>;

    await t.step("plain object with every field, equal to the sample", () => {
      assert.strictEqual(Object.getPrototypeOf(copy), Object.prototype);
      assert.deepStrictEqual(Reflect.ownKeys(copy).sort(), cloneKeysOf(c, pooled));
      assert.deepStrictEqual(copy, c.sample());
    });

    await t.step("arrays are not shared, in either direction", () => {
      for (const key of Reflect.ownKeys(pooled)) {
        const original = pooled[key];
        if (!Array.isArray(original)) continue;
        const copied = copy[c.stores[key as string]?.clone ?? key] as unknown[];
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

Deno.test("CanonicalEvent keeps its level storage across reuse", async (t) => {
  const ev = new CanonicalEvent().copyFrom(sampleBookUpdate());
  const bidStore = ev.bidStore;
  const askStore = ev.askStore;
  const used = ev.bidsLength;
  assert.ok(used > 0);

  await t.step("reset() zeroes the counts and keeps the arrays and their slots", () => {
    ev.reset();
    assert.strictEqual(ev.bidsLength, 0);
    assert.strictEqual(ev.asksLength, 0);
    assert.strictEqual(ev.bidStore, bidStore);
    assert.strictEqual(ev.askStore, askStore);
    assert.ok(ev.bidStore.length >= used, "the store was emptied");
    assert.deepStrictEqual(ev.clone().bids, []);
  });

  await t.step("a reuse with fewer levels shows only its own levels", () => {
    ev.copyFrom(sampleBookUpdate());
    ev.setBids(["1.5", "2"]);
    assert.deepStrictEqual(ev.clone().bids, ["1.5", "2"]);
    assert.strictEqual(validateCanonicalEvent(ev), null);
    assert.ok(ev.bidStore.slice(2).every((v) => v === ""), "dropped levels still reachable");
    ev.pushBid("1.4", "3");
    assert.deepStrictEqual(ev.clone().bids, ["1.5", "2", "1.4", "3"]);
  });

  await t.step("the counts bound what validation reads", () => {
    ev.bidStore[ev.bidsLength] = "not a decimal"; // beyond the count: not the event's
    assert.strictEqual(validateCanonicalEvent(ev), null);
    ev.setBidsLength(ev.bidsLength + 1);
    assert.match(validateCanonicalEvent(ev)!, /price\/qty pairs/);
  });

  await t.step("setBidsLength refuses a count beyond the storage", () => {
    assert.throws(() => ev.setBidsLength(ev.bidStore.length + 1), /expected bids length/);
    assert.throws(() => ev.setAsksLength(-1), /expected asks length/);
  });
});

Deno.test("a poisoned CanonicalEvent shows poison inside its level counts", () => {
  const ev = new CanonicalEvent().copyFrom(sampleBookUpdate());
  ev.poison();
  const copy = ev.clone();
  assert.deepStrictEqual(copy.bids, [POISON_STRING, POISON_STRING]);
  assert.deepStrictEqual(copy.asks, [POISON_STRING, POISON_STRING]);
  // Even with every scalar field rewritten by a writer that ignores the release, the levels fail.
  const { bids: _bids, asks: _asks, ...scalars } = sampleBookUpdate();
  Object.assign(ev, scalars);
  assert.match(validateCanonicalEvent(ev)!, /decimal at bids\[0\]/);
});

/** The level-store API CanonicalEvent and ProviderRaw share. */
interface LevelStores {
  readonly bidStore: string[];
  readonly askStore: string[];
  bidsLength: number;
  asksLength: number;
  pushBid(price: string, qty: string): void;
  pushAsk(price: string, qty: string): void;
  setBids(src: readonly string[], length?: number): void;
  setBidsLength(length: number): void;
  reset(): void;
  clone(): { bids: string[]; asks: string[] };
}

const LEVEL_STORE_TYPES: readonly (new () => LevelStores)[] = [CanonicalEvent, ProviderRaw];

for (const ctor of LEVEL_STORE_TYPES) {
  Deno.test(`${ctor.name}.reset() trims level storage to LEVELS_RETAINED_MAX per side`, () => {
    const ev = new ctor();
    const levels = 3 * LEVELS_RETAINED_MAX;
    for (let i = 0; i < levels; i++) {
      ev.pushBid("1", "1");
      ev.pushAsk("2", "1");
    }
    assert.strictEqual(ev.clone().bids.length, 2 * levels);
    ev.reset();
    assert.strictEqual(ev.bidStore.length, 2 * LEVELS_RETAINED_MAX);
    assert.strictEqual(ev.askStore.length, 2 * LEVELS_RETAINED_MAX);
    assertNoData(ev.bidStore, "bidStore");
  });

  Deno.test(`${ctor.name}.reset() trims a huge store even when its count was lowered first`, () => {
    const ev = new ctor();
    for (let i = 0; i < 2 * LEVELS_RETAINED_MAX; i++) ev.pushBid("1", "1");
    ev.setBidsLength(0); // e.g. a decode into a former snapshot object that is not a book
    ev.reset();
    assert.strictEqual(ev.bidStore.length, 2 * LEVELS_RETAINED_MAX);
    assertNoData(ev.bidStore, "bidStore");
  });

  Deno.test(`${ctor.name}.setBids copies only the given prefix of its source`, () => {
    const ev = new ctor();
    ev.setBids(["1", "2", "3", "4"]);
    ev.setBids(["5", "6", "7", "8"], 2);
    assert.deepStrictEqual(ev.clone().bids, ["5", "6"]);
    assert.ok(ev.bidStore.slice(2).every((v) => v === ""), "dropped levels still reachable");
    assert.throws(() => ev.setBids(["1", "2"], 4), /expected bids length/);
  });
}

Deno.test("ProviderRaw keeps its level storage across reuse", async (t) => {
  const raw = new ProviderRaw().copyFrom(sampleRaw());
  const bidStore = raw.bidStore;
  const askStore = raw.askStore;
  assert.ok(raw.bidsLength > 0 && raw.asksLength > 0);

  await t.step("reset() zeroes the counts and keeps the arrays and their slots", () => {
    raw.reset();
    assert.strictEqual(raw.bidsLength, 0);
    assert.strictEqual(raw.asksLength, 0);
    assert.strictEqual(raw.bidStore, bidStore);
    assert.strictEqual(raw.askStore, askStore);
    assert.ok(raw.bidStore.length >= 2, "the store was emptied");
    assert.deepStrictEqual(raw.clone().bids, []);
  });

  await t.step("the counts bound what validation reads", () => {
    raw.copyFrom(sampleRaw());
    raw.askStore[raw.asksLength] = POISON_STRING; // beyond the count: not the message's
    assert.strictEqual(validateProviderRaw(raw), null);
    raw.setAsksLength(raw.asksLength + 1);
    assert.match(validateProviderRaw(raw)!, /poisoned/);
  });

  await t.step("setAsksLength refuses a count beyond the storage", () => {
    assert.throws(() => raw.setAsksLength(raw.askStore.length + 1), /expected asks length/);
    assert.throws(() => raw.setBidsLength(-1), /expected bids length/);
  });
});

Deno.test("a poisoned ProviderRaw shows poison inside its level counts", () => {
  const raw = new ProviderRaw().copyFrom(sampleRaw());
  raw.poison();
  assert.deepStrictEqual(raw.clone().bids, [POISON_STRING, POISON_STRING]);
  assert.deepStrictEqual(raw.clone().asks, [POISON_STRING, POISON_STRING]);
  const { bids: _bids, asks: _asks, ...scalars } = sampleRaw();
  Object.assign(raw, scalars);
  assert.match(validateProviderRaw(raw)!, /poisoned/);
});
