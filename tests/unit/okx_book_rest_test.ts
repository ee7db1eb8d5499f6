import assert from "node:assert/strict";
import { OkxBookRest, OkxRestError } from "../../src/adapter/okx/mod.ts";

const BOOK = JSON.stringify({
  code: "0",
  msg: "",
  data: [{
    asks: [["101.0", "0.50", "0", "2"]],
    bids: [["100.0", "2", "0", "1"]],
    ts: "1767225600000",
    seqId: 880001,
  }],
});

Deno.test("okx book rest parses the snapshot with its seqId and keeps wire strings", async () => {
  const urls: string[] = [];
  const rest = new OkxBookRest({
    baseUrl: "http://venue/",
    fetch: (input) => {
      urls.push(String(input));
      return Promise.resolve(new Response(BOOK));
    },
  });
  const book = await rest.books("BTC-USDT", { sz: 400 });
  assert.deepEqual(urls, ["http://venue/api/v5/market/books?instId=BTC-USDT&sz=400"]);
  assert.deepEqual(book, {
    seqId: 880001,
    bids: ["100.0", "2"],
    asks: ["101.0", "0.50"],
    tsMs: 1767225600000,
  });
});

Deno.test("okx book rest keeps at most 2 requests in flight", async () => {
  const pending: PromiseWithResolvers<Response>[] = [];
  const rest = new OkxBookRest({
    baseUrl: "http://venue",
    fetch: () => {
      const p = Promise.withResolvers<Response>();
      pending.push(p);
      return p.promise;
    },
  });
  const calls = ["A", "B", "C", "D"].map((id) => rest.books(`${id}-USDT`));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(pending.length, 2);
  pending[0].resolve(new Response(BOOK));
  await calls[0];
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(pending.length, 3);
  for (const p of pending.slice(1)) p.resolve(new Response(BOOK));
  await calls[1];
  await calls[2];
  pending[3].resolve(new Response(BOOK));
  await Promise.all(calls);
  assert.equal(rest.inFlightPeak, 2);
  assert.equal(rest.stats.requests, 4);
});

Deno.test("okx book rest blocks calls for a 429's Retry-After", async () => {
  let sent = 0;
  const rest = new OkxBookRest({
    baseUrl: "http://venue",
    fetch: () => {
      sent++;
      return Promise.resolve(
        new Response(JSON.stringify({ code: "50011", msg: "Too Many Requests", data: [] }), {
          status: 429,
          headers: { "retry-after": "3" },
        }),
      );
    },
  });
  await assert.rejects(rest.books("BTC-USDT"), (err: unknown) => {
    assert.ok(err instanceof OkxRestError);
    assert.equal(err.status, 429);
    assert.equal(err.code, "50011");
    assert.equal(err.retryAfterMs, 3000);
    return true;
  });
  await assert.rejects(rest.books("ETH-USDT"), (err: unknown) => {
    assert.ok(err instanceof OkxRestError);
    assert.ok(err.retryAfterMs > 2000 && err.retryAfterMs <= 3000);
    return true;
  });
  assert.equal(sent, 1, "the second call was refused locally");
  assert.equal(rest.stats.refusedWhileBlocked, 1);
  assert.equal(rest.stats.rateLimited, 1);
});

Deno.test("okx book rest rejects a body without seqId or with an error code", async (t) => {
  await t.step("no seqId", async () => {
    const rest = new OkxBookRest({
      baseUrl: "http://venue",
      fetch: () =>
        Promise.resolve(
          new Response(JSON.stringify({ code: "0", data: [{ asks: [], bids: [] }] })),
        ),
    });
    await assert.rejects(rest.books("BTC-USDT"), /expected data\[0\]\.seqId/);
  });
  await t.step("an OKX error code", async () => {
    const rest = new OkxBookRest({
      baseUrl: "http://venue",
      fetch: () =>
        Promise.resolve(
          new Response(JSON.stringify({ code: "51001", msg: "Instrument ID does not exist" }), {
            status: 400,
          }),
        ),
    });
    await assert.rejects(rest.books("NOPE-USDT"), /code 51001: Instrument ID does not exist/);
  });
});
