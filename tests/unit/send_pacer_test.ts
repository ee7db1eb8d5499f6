import assert from "node:assert/strict";
import { ManualClock } from "../../src/pool/mod.ts";
import { SendPacer, SendQueueFullError } from "../../src/adapter/shared/send_pacer.ts";

interface Sent {
  atMs: number;
  text: string;
}

function recorder(
  clock: ManualClock,
  accept = true,
): { sent: Sent[]; send: (t: string) => boolean } {
  const sent: Sent[] = [];
  return {
    sent,
    send(text: string): boolean {
      sent.push({ atMs: clock.nowMs(), text });
      return accept;
    },
  };
}

Deno.test("send pacer sends the first message at once and paces the rest", () => {
  const clock = new ManualClock();
  const sink = recorder(clock);
  const pacer = new SendPacer({ send: sink.send, ratePerSec: 4, clock });
  for (let i = 0; i < 5; i++) pacer.enqueue(`m${i}`);
  assert.deepEqual(sink.sent.map((s) => s.text), ["m0"]);
  assert.equal(pacer.queued, 4);
  clock.advance(2_000);
  assert.deepEqual(sink.sent.map((s) => s.text), ["m0", "m1", "m2", "m3", "m4"]);
  assert.deepEqual(sink.sent.map((s) => s.atMs), [0, 250, 500, 750, 1_000]);
  assert.equal(clock.pendingTimers(), 0);
  assert.deepEqual(pacer.stats(), {
    enqueued: 5,
    sent: 5,
    sendFailures: 0,
    rejectedFull: 0,
    cleared: 0,
    queued: 0,
  });
  pacer.close();
});

Deno.test("send pacer never exceeds burst + rate in any window", () => {
  const clock = new ManualClock();
  const sink = recorder(clock);
  const pacer = new SendPacer({ send: sink.send, ratePerSec: 4, burstMax: 1, clock });
  // Bursty producer: 40 messages in clumps, with quiet periods in between.
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 10; i++) pacer.enqueue(`r${round}-${i}`);
    clock.advance(round % 2 === 0 ? 700 : 3_100);
  }
  clock.advance(20_000);
  assert.equal(sink.sent.length, 40);
  // Binance counts 5 messages per second; 4/s with a burst of 1 keeps every half-open 1 s
  // window at <= 4 and every closed one at <= 5.
  for (let i = 0; i < sink.sent.length; i++) {
    const start = sink.sent[i].atMs;
    const inHalfOpen = sink.sent.filter((s) => s.atMs >= start && s.atMs < start + 1_000).length;
    const inClosed = sink.sent.filter((s) => s.atMs >= start && s.atMs <= start + 1_000).length;
    assert.ok(inHalfOpen <= 4, `window at ${start} ms held ${inHalfOpen}`);
    assert.ok(inClosed <= 5, `closed window at ${start} ms held ${inClosed}`);
  }
  // FIFO order is kept.
  assert.deepEqual(sink.sent.slice(0, 3).map((s) => s.text), ["r0-0", "r0-1", "r0-2"]);
  pacer.close();
});

Deno.test("send pacer bursts up to burstMax after a quiet period", () => {
  const clock = new ManualClock();
  const sink = recorder(clock);
  const pacer = new SendPacer({ send: sink.send, ratePerSec: 2, burstMax: 3, clock });
  for (let i = 0; i < 4; i++) pacer.enqueue(`m${i}`);
  assert.equal(sink.sent.length, 3);
  clock.advance(499);
  assert.equal(sink.sent.length, 3);
  clock.advance(1);
  assert.equal(sink.sent.length, 4);
  assert.equal(sink.sent[3].atMs, 500);
  pacer.close();
});

Deno.test("send pacer rejects when the queue is full", () => {
  const clock = new ManualClock();
  const sink = recorder(clock);
  const pacer = new SendPacer({ send: sink.send, ratePerSec: 4, queueMax: 3, clock });
  pacer.enqueue("sent-at-once");
  pacer.enqueue("q1");
  pacer.enqueue("q2");
  pacer.enqueue("q3");
  assert.equal(pacer.queued, 3);
  assert.throws(
    () => pacer.enqueue("overflow"),
    (error: unknown) =>
      error instanceof SendQueueFullError && error.queueMax === 3 &&
      /send queue full: expected fewer than 3 queued control messages, found 3/.test(
        error.message,
      ),
  );
  assert.equal(pacer.stats().rejectedFull, 1);
  // Draining frees room again.
  clock.advance(250);
  pacer.enqueue("fits-again");
  assert.equal(pacer.queued, 3);
  pacer.close();
  assert.equal(clock.pendingTimers(), 0);
});

Deno.test("send pacer clear drops waiting messages and its timer", () => {
  const clock = new ManualClock();
  const sink = recorder(clock);
  const pacer = new SendPacer({ send: sink.send, ratePerSec: 4, clock });
  for (let i = 0; i < 4; i++) pacer.enqueue(`old${i}`);
  assert.equal(clock.pendingTimers(), 1);
  assert.equal(pacer.clear(), 3);
  assert.equal(pacer.queued, 0);
  assert.equal(clock.pendingTimers(), 0);
  clock.advance(5_000);
  assert.deepEqual(sink.sent.map((s) => s.text), ["old0"]);
  // After a clear the pacer keeps working (the bucket level is kept: conservative).
  pacer.enqueue("new0");
  pacer.enqueue("new1");
  clock.advance(250);
  assert.deepEqual(sink.sent.map((s) => s.text), ["old0", "new0", "new1"]);
  assert.equal(pacer.stats().cleared, 3);
  pacer.close();
});

Deno.test("send pacer counts sink refusals and throws and does not retry them", () => {
  const clock = new ManualClock();
  let calls = 0;
  const pacer = new SendPacer({
    send: (text) => {
      calls++;
      if (text === "boom") throw new Error("socket gone");
      return false;
    },
    ratePerSec: 10,
    clock,
  });
  pacer.enqueue("refused");
  pacer.enqueue("boom");
  clock.advance(1_000);
  assert.equal(calls, 2);
  const stats = pacer.stats();
  assert.equal(stats.sent, 0);
  assert.equal(stats.sendFailures, 2);
  pacer.close();
});

Deno.test("send pacer refuses work after close and validates its options", () => {
  const clock = new ManualClock();
  const pacer = new SendPacer({ send: () => true, clock });
  pacer.close();
  pacer.close();
  assert.throws(() => pacer.enqueue("late"), /expected an open send pacer, found it closed/);
  assert.throws(() => new SendPacer({ send: () => true, ratePerSec: 0 }), /ratePerSec > 0/);
  assert.throws(() => new SendPacer({ send: () => true, burstMax: 0.5 }), /burstMax an integer/);
  assert.throws(() => new SendPacer({ send: () => true, queueMax: 0 }), /queueMax an integer/);
});

Deno.test("send pacer paces with the real clock too (loose timing)", async () => {
  const times: number[] = [];
  const pacer = new SendPacer({
    send: () => {
      times.push(performance.now());
      return true;
    },
    ratePerSec: 50,
  });
  const t0 = performance.now();
  for (let i = 0; i < 6; i++) pacer.enqueue(`m${i}`);
  const { promise, resolve } = Promise.withResolvers<void>();
  const poll = setInterval(() => {
    if (times.length === 6) resolve();
  }, 5);
  await promise;
  clearInterval(poll);
  // 5 waits of 20 ms each: at least ~100 ms (timers never fire early; allow 1 ms rounding).
  assert.ok(times[5] - t0 >= 99, `6 messages at 50/s took ${times[5] - t0} ms`);
  pacer.close();
});
