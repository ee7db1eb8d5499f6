import assert from "node:assert/strict";
import { getHeapStatistics } from "node:v8";
import fc from "fast-check";
import { ANY_PROVIDER, type StreamKey } from "../../src/consumer/mod.ts";
import { type DeliveryTarget, RoutingTable } from "../../src/dispatcher/mod.ts";
import type { CanonicalEventData } from "../../src/schema/canonical_event.ts";
import type { MarketEventKind } from "../../src/schema/event_kind.ts";

/** A target that never receives anything here: the table only routes. */
function target(id: string): DeliveryTarget {
  return {
    id,
    enqueue(_ev: CanonicalEventData): boolean {
      return true;
    },
  };
}

function key(provider: string, symbol = "BTC-USDT", kind: MarketEventKind = "trade"): StreamKey {
  return { provider, symbol, kind };
}

/** Bytes V8 has allocated so far (the field exists at run time; @types/node omits it). */
function allocatedBytes(): number {
  return (getHeapStatistics() as unknown as { total_allocated_bytes: number })
    .total_allocated_bytes;
}

function ids(targets: readonly DeliveryTarget[]): string[] {
  return targets.map((t) => t.id);
}

function tableWith(...consumerIds: string[]): RoutingTable {
  const table = new RoutingTable();
  for (const id of consumerIds) assert.equal(table.addConsumer(target(id)).ok, true);
  return table;
}

Deno.test("routing table subscribe is idempotent and versioned", async (t) => {
  const table = new RoutingTable();
  assert.equal(table.version, 0);
  const a = target("a");

  await t.step("adding a consumer is one change; adding the same object again is none", () => {
    assert.deepEqual(table.addConsumer(a), { ok: true, changed: true, version: 1 });
    assert.deepEqual(table.addConsumer(a), { ok: true, changed: false, version: 1 });
  });

  await t.step("a new subscription bumps the version once", () => {
    assert.deepEqual(table.subscribe("a", key("binance")), { ok: true, changed: true, version: 2 });
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["a"]);
  });

  await t.step("subscribing twice returns ok with the current version", () => {
    assert.deepEqual(table.subscribe("a", key("binance")), {
      ok: true,
      changed: false,
      version: 2,
    });
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["a"]);
  });

  await t.step("unsubscribing an absent subscription returns ok with the current version", () => {
    assert.deepEqual(table.unsubscribe("a", key("okx")), { ok: true, changed: false, version: 2 });
  });

  await t.step("unsubscribing bumps the version and empties the lookup", () => {
    assert.deepEqual(table.unsubscribe("a", key("binance")), {
      ok: true,
      changed: true,
      version: 3,
    });
    assert.equal(table.lookup("binance", "BTC-USDT", "trade").length, 0);
    assert.deepEqual(table.unsubscribe("a", key("binance")), {
      ok: true,
      changed: false,
      version: 3,
    });
  });

  await t.step("removing a consumer is one change, removing it again is none", () => {
    table.subscribe("a", key("binance"));
    table.subscribe("a", key("okx"));
    assert.equal(table.version, 5);
    assert.deepEqual(table.removeConsumer("a"), { ok: true, changed: true, version: 6 });
    assert.deepEqual(table.removeConsumer("a"), { ok: true, changed: false, version: 6 });
    assert.equal(table.lookup("binance", "BTC-USDT", "trade").length, 0);
    assert.equal(table.lookup("okx", "BTC-USDT", "trade").length, 0);
  });
});

Deno.test("routing table rejects bad commands without changing the version", async (t) => {
  const table = tableWith("a");
  const v = table.version;

  await t.step("unknown consumer", () => {
    const r = table.subscribe("ghost", key("binance"));
    assert.equal(r.ok, false);
    assert.equal(r.version, v);
    assert.match(!r.ok ? r.error : "", /expected a registered consumer, found no consumer "ghost"/);
    assert.equal(table.unsubscribe("ghost", key("binance")).ok, false);
  });

  await t.step("bad stream keys", () => {
    const bad: StreamKey[] = [
      key("Binance"),
      key("binance", "btcusdt"),
      { provider: "binance", symbol: "BTC-USDT", kind: "exec_report" as MarketEventKind },
      key("**"),
    ];
    for (const k of bad) {
      const r = table.subscribe("a", k);
      assert.equal(r.ok, false, `${k.provider} ${k.symbol} ${k.kind}`);
      assert.match(!r.ok ? r.error : "", /^expected /);
    }
    assert.equal(table.version, v);
  });

  await t.step("duplicate id with another object, and bad ids", () => {
    const dup = table.addConsumer(target("a"));
    assert.equal(dup.ok, false);
    assert.match(!dup.ok ? dup.error : "", /expected a unique consumer id, found "a"/);
    assert.equal(table.addConsumer(target("has space")).ok, false);
    assert.equal(table.addConsumer(target("")).ok, false);
    assert.equal(table.version, v);
  });
});

Deno.test("routing table enforces its bounds", () => {
  const table = new RoutingTable({ consumersMax: 2, subscriptionsPerConsumerMax: 2 });
  assert.equal(table.addConsumer(target("a")).ok, true);
  assert.equal(table.addConsumer(target("b")).ok, true);
  const third = table.addConsumer(target("c"));
  assert.equal(third.ok, false);
  assert.match(!third.ok ? third.error : "", /expected at most 2 consumers, found 2 registered/);

  assert.equal(table.subscribe("a", key("binance")).ok, true);
  assert.equal(table.subscribe("a", key("okx")).ok, true);
  const over = table.subscribe("a", key("kraken"));
  assert.equal(over.ok, false);
  assert.match(!over.ok ? over.error : "", /expected at most 2 subscriptions, found 2 already/);
  // A repeat of an existing subscription is still an ok no-op at the bound.
  assert.deepEqual(table.subscribe("a", key("okx")), {
    ok: true,
    changed: false,
    version: table.version,
  });
  assert.throws(() => new RoutingTable({ consumersMax: 0 }), /expected an integer consumersMax/);
});

Deno.test("overlapping subscriptions from many consumers do not interfere", async (t) => {
  const table = tableWith("a", "b", "c");
  for (const id of ["a", "b", "c"]) table.subscribe(id, key("binance"));
  table.subscribe("b", key("okx"));

  await t.step("every subscriber is listed once, in subscription order", () => {
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["a", "b", "c"]);
    assert.deepEqual(ids(table.lookup("okx", "BTC-USDT", "trade")), ["b"]);
  });

  await t.step("unsubscribing a leaves b and c", () => {
    table.unsubscribe("a", key("binance"));
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["b", "c"]);
  });

  await t.step("removing b leaves c, and b's other stream goes quiet", () => {
    table.removeConsumer("b");
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["c"]);
    assert.equal(table.lookup("okx", "BTC-USDT", "trade").length, 0);
  });

  await t.step("other symbols and kinds are separate streams", () => {
    table.subscribe("a", key("binance", "ETH-USDT"));
    table.subscribe("a", key("binance", "BTC-USDT", "ticker"));
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["c"]);
    assert.deepEqual(ids(table.lookup("binance", "ETH-USDT", "trade")), ["a"]);
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "ticker")), ["a"]);
    assert.equal(table.lookup("binance", "ETH-USDT", "ticker").length, 0);
  });
});

Deno.test("routing table wildcard provider matches every provider, each consumer once", async (t) => {
  const table = tableWith("a", "b");
  table.subscribe("a", key(ANY_PROVIDER));

  await t.step("a wildcard alone reaches any provider, even one never seen", () => {
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["a"]);
    assert.deepEqual(ids(table.lookup("somewhere-new", "BTC-USDT", "trade")), ["a"]);
    assert.equal(table.lookup("binance", "ETH-USDT", "trade").length, 0);
    assert.equal(table.lookup("binance", "BTC-USDT", "ticker").length, 0);
  });

  await t.step("exact and wildcard subscribers combine", () => {
    table.subscribe("b", key("binance"));
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["b", "a"]);
    assert.deepEqual(ids(table.lookup("okx", "BTC-USDT", "trade")), ["a"]);
  });

  await t.step("exact plus wildcard on one consumer lists it once", () => {
    table.subscribe("a", key("binance"));
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["b", "a"]);
  });

  await t.step("dropping the wildcard keeps the exact subscriptions", () => {
    table.unsubscribe("a", key(ANY_PROVIDER));
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["b", "a"]);
    assert.equal(table.lookup("okx", "BTC-USDT", "trade").length, 0);
  });

  await t.step("a wildcard added after exact routes is folded into them", () => {
    table.unsubscribe("a", key("binance"));
    table.subscribe("a", key(ANY_PROVIDER));
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["b", "a"]);
    table.removeConsumer("b");
    assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["a"]);
    table.removeConsumer("a");
    assert.equal(table.lookup("binance", "BTC-USDT", "trade").length, 0);
  });
});

Deno.test("routing table lookup arrays are frozen, shared and copy-on-write", () => {
  const table = tableWith("a", "b");
  table.subscribe("a", key("binance"));
  const before = table.lookup("binance", "BTC-USDT", "trade");
  assert.equal(Object.isFrozen(before), true);
  assert.equal(table.lookup("binance", "BTC-USDT", "trade"), before, "same array every lookup");
  assert.equal(Object.isFrozen(table.lookup("x", "Y-Z", "trade")), true);

  table.subscribe("b", key("binance"));
  const after = table.lookup("binance", "BTC-USDT", "trade");
  assert.notEqual(after, before);
  assert.deepEqual(ids(before), ["a"], "an array handed out earlier never changes");
  assert.deepEqual(ids(after), ["a", "b"]);
});

Deno.test("routing table lookup allocates nothing per call", () => {
  const table = tableWith("a", "b");
  table.subscribe("a", key("binance"));
  table.subscribe("b", key(ANY_PROVIDER));
  const rounds = 200_000;
  function lookups(): number {
    let found = 0;
    for (let i = 0; i < rounds; i++) {
      found += table.lookup("binance", "BTC-USDT", "trade").length;
      found += table.lookup("okx", "BTC-USDT", "trade").length;
      found += table.lookup("okx", "ETH-USDT", "trade").length;
    }
    return found;
  }
  lookups(); // warm up: the measured call runs optimized code
  const start = allocatedBytes();
  const found = lookups();
  const allocated = allocatedBytes() - start;
  assert.equal(found, rounds * 3);
  // 600k calls: even 16 bytes per call would be 9.6 MB. The runtime itself allocates a few
  // hundred KB in the background, hence the slack.
  assert.ok(allocated < 2 * 1024 * 1024, `expected < 2 MiB allocated, found ${allocated} bytes`);
});

Deno.test("routing table snapshot lists consumers, subscriptions and version as copies", () => {
  const table = tableWith("a", "b");
  table.subscribe("a", key("binance"));
  table.subscribe("a", key(ANY_PROVIDER, "ETH-USDT", "ticker"));
  table.subscribe("b", key("binance"));
  const snap = table.snapshot();
  assert.deepEqual(snap, {
    version: 5,
    consumers: [
      {
        id: "a",
        subscriptions: [key("binance"), key(ANY_PROVIDER, "ETH-USDT", "ticker")],
      },
      { id: "b", subscriptions: [key("binance")] },
    ],
    streams: 2,
  });
  (snap.consumers[0].subscriptions[0] as { provider: string }).provider = "mutated";
  snap.consumers.pop();
  assert.deepEqual(table.subscriptionsOf("a")[0], key("binance"));
  assert.equal(table.snapshot().consumers.length, 2);
  assert.deepEqual(table.subscriptionsOf("ghost"), []);
});

Deno.test("routing table keeps its own copy of the caller's key", () => {
  const table = tableWith("a");
  const k = { provider: "binance", symbol: "BTC-USDT", kind: "trade" as MarketEventKind };
  table.subscribe("a", k);
  k.provider = "okx";
  assert.deepEqual(ids(table.lookup("binance", "BTC-USDT", "trade")), ["a"]);
  assert.equal(table.lookup("okx", "BTC-USDT", "trade").length, 0);
  assert.deepEqual(table.subscriptionsOf("a"), [key("binance")]);
});

Deno.test("routing table matches a naive model under random command sequences", () => {
  const consumerIds = ["a", "b", "c"];
  const providers = ["binance", "okx", ANY_PROVIDER];
  const symbols = ["BTC-USDT", "ETH-USDT"];
  const kinds: MarketEventKind[] = ["trade", "ticker"];
  const command = fc.record({
    op: fc.constantFrom("subscribe", "unsubscribe", "remove", "add"),
    consumer: fc.constantFrom(...consumerIds),
    provider: fc.constantFrom(...providers),
    symbol: fc.constantFrom(...symbols),
    kind: fc.constantFrom(...kinds),
  });
  fc.assert(
    fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
      const table = new RoutingTable();
      const targets = new Map(consumerIds.map((id) => [id, target(id)]));
      // Model: consumer -> set of "provider|symbol|kind"; registered consumers only.
      const model = new Map<string, Set<string>>();
      let changes = 0;
      for (const c of commands) {
        const k = key(c.provider, c.symbol, c.kind);
        const keyId = `${c.provider}|${c.symbol}|${c.kind}`;
        const subs = model.get(c.consumer);
        let expectedChange = false;
        if (c.op === "add") {
          expectedChange = subs === undefined;
          if (expectedChange) model.set(c.consumer, new Set());
          assert.equal(table.addConsumer(targets.get(c.consumer)!).ok, true);
        } else if (c.op === "remove") {
          expectedChange = subs !== undefined;
          model.delete(c.consumer);
          assert.equal(table.removeConsumer(c.consumer).ok, true);
        } else if (c.op === "subscribe") {
          const r = table.subscribe(c.consumer, k);
          assert.equal(r.ok, subs !== undefined);
          expectedChange = subs !== undefined && !subs.has(keyId);
          subs?.add(keyId);
        } else {
          const r = table.unsubscribe(c.consumer, k);
          assert.equal(r.ok, subs !== undefined);
          expectedChange = subs !== undefined && subs.has(keyId);
          subs?.delete(keyId);
        }
        if (expectedChange) changes++;
        assert.equal(table.version, changes);
      }
      for (const provider of ["binance", "okx", "kraken"]) {
        for (const symbol of symbols) {
          for (const kind of kinds) {
            const expected = consumerIds.filter((id) => {
              const subs = model.get(id);
              return subs !== undefined &&
                (subs.has(`${provider}|${symbol}|${kind}`) ||
                  subs.has(`${ANY_PROVIDER}|${symbol}|${kind}`));
            });
            const found = ids(table.lookup(provider, symbol, kind));
            assert.deepEqual([...found].sort(), expected);
            assert.equal(new Set(found).size, found.length, "no consumer listed twice");
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});
