import assert from "node:assert/strict";
import { abortableDelay } from "../../src/adapter/shared/abortable_delay.ts";
import { loadWithRetries } from "../../src/adapter/shared/startup_retry.ts";

Deno.test("start-up retry returns the value and the attempt that succeeded", async () => {
  const failures: string[] = [];
  let calls = 0;
  const result = await loadWithRetries(() => {
    calls++;
    return calls < 2 ? Promise.reject(new TypeError("offline")) : Promise.resolve("list");
  }, {
    provider: "venue",
    what: "instruments",
    attemptsMax: 3,
    signal: new AbortController().signal,
    onFailure: (attempt, error) => failures.push(`${attempt} ${error}`),
  });
  assert.deepEqual(result, { value: "list", attempt: 2 });
  assert.deepEqual(failures, ["1 TypeError: offline"]);
});

Deno.test("start-up retry gives up after attemptsMax with the last error", async () => {
  await assert.rejects(
    loadWithRetries(() => Promise.reject(new Error("down")), {
      provider: "venue",
      what: "instruments",
      attemptsMax: 1,
      signal: new AbortController().signal,
      onFailure: () => {},
    }),
    { message: "venue: instruments failed 1 times, last: Error: down" },
  );
});

Deno.test("start-up retry stops when the signal aborts during a wait or before an attempt", async (t) => {
  await t.step("during the wait", async () => {
    const closing = new AbortController();
    await assert.rejects(
      loadWithRetries(() => Promise.reject(new Error("down")), {
        provider: "venue",
        what: "instruments",
        attemptsMax: 8,
        signal: closing.signal,
        onFailure: () => closing.abort(),
      }),
      { message: "venue: instruments failed 1 times, last: Error: down" },
    );
  });
  await t.step("before an attempt", async () => {
    const closing = new AbortController();
    closing.abort();
    await assert.rejects(
      loadWithRetries(() => assert.fail("expected no attempt"), {
        provider: "venue",
        what: "instruments",
        attemptsMax: 8,
        signal: closing.signal,
        onFailure: () => {},
      }),
      { message: "venue: expected an open adapter to load instruments, found it closed" },
    );
  });
});

Deno.test("abortable delay ends at once when its signal aborts", async () => {
  const closing = new AbortController();
  const started = performance.now();
  const wait = abortableDelay(60_000, closing.signal);
  closing.abort();
  await wait;
  assert.ok(performance.now() - started < 30_000);
  await abortableDelay(60_000, closing.signal); // already aborted: resolves at once
});
