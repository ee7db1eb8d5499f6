import assert from "node:assert/strict";
import { OutboundQueue } from "../../src/server/outbound_queue.ts";

Deno.test("outbound queue: one message is an object, several an array, within both bounds", async (t) => {
  await t.step("single message frame is the message itself", () => {
    const q = new OutboundQueue();
    q.push('{"a":1}');
    assert.equal(q.takeFrame(), '{"a":1}');
    assert.equal(q.lastFrameMessages, 1);
    assert.equal(q.takeFrame(), null);
    assert.equal(q.length, 0);
    assert.equal(q.chars, 0);
  });
  await t.step("message count bound, in order", () => {
    const q = new OutboundQueue({ batchMessagesMax: 3 });
    for (let i = 0; i < 7; i++) q.push(`{"i":${i}}`);
    assert.equal(q.hasFullFrame, true);
    const frames: unknown[] = [];
    for (let f = q.takeFrame(); f !== null; f = q.takeFrame()) frames.push(JSON.parse(f));
    assert.deepEqual(frames, [
      [{ i: 0 }, { i: 1 }, { i: 2 }],
      [{ i: 3 }, { i: 4 }, { i: 5 }],
      { i: 6 },
    ]);
  });
  await t.step(
    "character bound counts brackets and commas; an oversized message goes alone",
    () => {
      const q = new OutboundQueue({ batchCharsMax: 20 });
      q.push('{"a":"12345"}'); // 13 chars
      q.push('{"b":1}'); // 7 chars: [13,7] would be 22 > 20
      q.push('{"c":1}');
      q.push('{"d":1}'); // [7,7] = 17 <= 20, [7,7,7] = 25
      q.push('{"e":"' + "x".repeat(40) + '"}');
      const frames: string[] = [];
      for (let f = q.takeFrame(); f !== null; f = q.takeFrame()) frames.push(f);
      assert.deepEqual(frames, [
        '{"a":"12345"}',
        '[{"b":1},{"c":1}]',
        '{"d":1}',
        '{"e":"' + "x".repeat(40) + '"}',
      ]);
      for (const f of frames.slice(0, 3)) assert.ok(f.length <= 20);
    },
  );
  await t.step("clear drops everything and compaction keeps order over many frames", () => {
    const q = new OutboundQueue({ batchMessagesMax: 2 });
    for (let i = 0; i < 10_000; i++) q.push(String(i));
    let next = 0;
    while (next < 9_000) {
      const f = q.takeFrame();
      assert.ok(f !== null);
      for (const v of JSON.parse(f)) assert.equal(v, next++);
    }
    assert.equal(q.length, 1000);
    assert.equal(q.clear(), 1000);
    assert.equal(q.takeFrame(), null);
  });
  await t.step("bounds are checked", () => {
    assert.throws(() => new OutboundQueue({ batchMessagesMax: 0 }), RangeError);
    assert.throws(() => new OutboundQueue({ batchCharsMax: 1 }), RangeError);
  });
});
