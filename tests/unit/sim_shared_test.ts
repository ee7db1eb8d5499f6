import assert from "node:assert/strict";
import { DEFAULT_SYMBOL_SPECS } from "../../src/sim/market/mod.ts";
import {
  ConnectionRegistry,
  type CountedConnection,
  LoopbackServer,
  selectSymbolSpecs,
  waitUntilDrained,
} from "../../src/sim/shared/mod.ts";

class FakeConnection implements CountedConnection {
  framesSent = 0;
  framesDropped = 0;
  closed: [number, string] | null = null;
  constructor(readonly id: number) {}
  close(code: number, reason: string): void {
    this.closed = [code, reason];
  }
}

Deno.test("connection registry keeps the frames of closed connections in its totals", () => {
  const registry = new ConnectionRegistry<FakeConnection>();
  const a = new FakeConnection(1);
  const b = new FakeConnection(2);
  registry.add(a);
  registry.add(b);
  a.framesSent = 5;
  a.framesDropped = 1;
  b.framesSent = 7;
  assert.deepEqual(registry.frameTotals(), { framesSent: 12, framesDropped: 1 });
  assert.equal(registry.remove(a), true);
  assert.equal(registry.remove(a), false); // a close reported twice counts once
  assert.equal(registry.size, 1);
  assert.deepEqual(registry.frameTotals(), { framesSent: 12, framesDropped: 1 });
  assert.throws(() => registry.add(new FakeConnection(2)), /expected a new id, found 2/);
  registry.closeAll(1001, "bye");
  assert.deepEqual(b.closed, [1001, "bye"]);
  assert.equal(a.closed, null);
});

Deno.test("waitUntilDrained returns once nothing is open, or at its bound", async () => {
  let open = 2;
  const timer = setTimeout(() => open = 0, 20);
  await waitUntilDrained(() => open, 5_000);
  assert.equal(open, 0);
  clearTimeout(timer);
  const started = performance.now();
  await waitUntilDrained(() => 1, 30);
  assert.ok(performance.now() - started >= 25);
});

Deno.test("symbol selection picks specs by the venue's name, in the order asked", () => {
  const dash = { nameOf: (s: { base: string; quote: string }) => `${s.base}-${s.quote}` };
  assert.equal(
    selectSymbolSpecs(DEFAULT_SYMBOL_SPECS, undefined, dash).length,
    DEFAULT_SYMBOL_SPECS.length,
  );
  assert.equal(
    selectSymbolSpecs(DEFAULT_SYMBOL_SPECS, null, dash).length,
    DEFAULT_SYMBOL_SPECS.length,
  );
  const [first, second] = DEFAULT_SYMBOL_SPECS;
  const picked = selectSymbolSpecs(DEFAULT_SYMBOL_SPECS, [
    `${second.base}-${second.quote}`,
    `${first.base}-${first.quote}`,
  ], dash);
  assert.deepEqual(picked, [second, first]);
  assert.throws(
    () => selectSymbolSpecs(DEFAULT_SYMBOL_SPECS, ["NOPE-USDT"], dash),
    /symbols: expected some of .*, found NOPE-USDT/,
  );
});

Deno.test("loopback server serves through its front and builds its URLs", async () => {
  const server = LoopbackServer.listen(
    { hostname: "127.0.0.1", port: 0 },
    (request) => new Response(new URL(request.url).pathname),
  );
  try {
    assert.equal(server.httpUrl("/x"), `http://127.0.0.1:${server.port}/x`);
    assert.equal(server.wsUrl("/v2"), `ws://127.0.0.1:${server.port}/v2`);
    const res = await fetch(server.httpUrl("/hello"));
    assert.equal(await res.text(), "/hello");
    assert.equal(server.drop(1), false);
  } finally {
    await server.close();
  }
});
