import assert from "node:assert/strict";
import { LoopLagSampler } from "../../src/telemetry/loop_lag.ts";

Deno.test("loop lag sampler sees a blocked event loop", async () => {
  const samples: number[] = [];
  const s = new LoopLagSampler({ intervalMs: 10, onSample: (ms) => samples.push(ms) });
  s.start();
  s.start(); // idempotent
  try {
    await new Promise((r) => setTimeout(r, 15));
    const until = performance.now() + 60;
    while (performance.now() < until) { /* block the loop on purpose */ }
    await new Promise((r) => setTimeout(r, 30));
  } finally {
    s.stop();
    s.stop();
  }
  assert.ok(samples.length >= 2, `expected samples, found ${samples.length}`);
  const max = s.takeMax();
  assert.ok(max >= 40, `expected a lag of about 60 ms to be seen, found ${max}`);
  assert.equal(s.takeMax(), 0);
});
