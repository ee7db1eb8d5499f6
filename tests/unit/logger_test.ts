import assert from "node:assert/strict";
import { componentLogger, setupLogging, teardownLogging } from "../../src/telemetry/logger.ts";

Deno.test("logger writes one JSON object per line with flattened properties and rendered errors", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", format: "json", write: (l) => lines.push(l) });
  try {
    const log = componentLogger("book.binance");
    log.debug("hidden below the level");
    log.info("resync {symbol}", { symbol: "BTC-USDT", reason: "gap" });
    const err = new TypeError("bad frame", { cause: new Error("inner") });
    log.error("decode failed: {error}", { error: err });
    assert.equal(lines.length, 2);
    for (const l of lines) assert.ok(l.endsWith("\n"));
    const a = JSON.parse(lines[0]);
    assert.equal(a.level, "info");
    assert.equal(a.logger, "switchyard.book.binance");
    assert.equal(a.msg, "resync BTC-USDT");
    assert.equal(a.reason, "gap");
    assert.match(a.ts, /^\d{4}-\d\d-\d\dT/);
    const b = JSON.parse(lines[1]);
    assert.equal(b.msg, "decode failed: TypeError: bad frame");
    assert.equal(b.error.name, "TypeError");
    assert.equal(b.error.message, "bad frame");
    assert.match(b.error.stack, /TypeError: bad frame/);
    assert.equal(b.error.cause.message, "inner");
  } finally {
    await teardownLogging();
  }
});

Deno.test("logger text format is one greppable line with key=value properties", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "debug", format: "text", write: (l) => lines.push(l) });
  try {
    componentLogger("gateway").debug("listening on {port}", { port: 8080, host: "127.0.0.1" });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /DEBUG +switchyard\.gateway: listening on 8080 host=127\.0\.0\.1\n$/,
    );
  } finally {
    await teardownLogging();
  }
});
