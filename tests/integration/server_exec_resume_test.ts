/**
 * Execution reports over the consumer WebSocket, across a reconnect: a real server on 127.0.0.1
 * (port 0), a real consumer registry with its exec report log, and Deno's WebSocket client.
 * Reports are injected with `registry.enqueueExecReport` (what the order path will call).
 */

import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry, ExecReportLog } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import {
  controlFromWire,
  type ExecReportData,
  execReportFromWire,
  execReportToWire,
} from "../../src/schema/mod.ts";
import { type RunningHttpServer, startHttpServer } from "../../src/server/http_server.ts";
import { StreamServer } from "../../src/server/stream_server.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { SchemaValidators } from "../support/schema_json_schema.ts";
import { RawWsClient } from "./raw_ws_client.ts";
import { sampleExecReport } from "../support/schema_samples.ts";

const WAIT_MS = 5000;
const schemas = new SchemaValidators();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(what: string, cond: () => boolean): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > WAIT_MS) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

type Message = Record<string, unknown>;

/** A remote consumer as a client author writes it: messages flattened from object/array frames. */
class Client {
  readonly messages: Message[] = [];
  closeEvent: CloseEvent | null = null;
  readonly #closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e: MessageEvent) => {
      const frame = JSON.parse(e.data as string);
      if (Array.isArray(frame)) this.messages.push(...frame);
      else this.messages.push(frame);
    };
    this.#closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        this.closeEvent = e;
        resolve();
      };
    });
  }

  static async connect(port: number, query: string): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?${query}`);
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
    });
    return client;
  }

  /** Exec report seqs received, in arrival order. */
  reportSeqs(): number[] {
    return this.messages.filter((m) => m.type === "exec_report").map((m) => m.seq as number);
  }

  lastSeq(): number {
    const seqs = this.reportSeqs();
    return seqs.length === 0 ? 0 : seqs[seqs.length - 1];
  }

  async close(): Promise<void> {
    if (this.closeEvent === null && this.ws.readyState <= WebSocket.OPEN) {
      this.ws.close(1000, "done");
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("close timed out")), WAIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

interface Stack {
  consumers: ConsumerRegistry;
  stream: StreamServer;
  http: RunningHttpServer;
  clients: Client[];
  connect(query: string): Promise<Client>;
  stop(): Promise<void>;
}

async function startStack(execLog?: ExecReportLog): Promise<Stack> {
  const routes = new RoutingTable<Consumer>();
  const consumers = new ConsumerRegistry({ routes, execLog });
  const metrics = new MetricsRegistry();
  const stream = new StreamServer({ consumers, metrics });
  const http = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    stream,
    metrics,
    status: {
      ready: () => true,
      notReadyReason: () => "",
      pools: () => [],
      codec: () => ({ summary: "v8-json" }),
      metrics,
      consumers,
    },
  });
  const clients: Client[] = [];
  return {
    consumers,
    stream,
    http,
    clients,
    async connect(query) {
      const c = await Client.connect(http.port, query);
      clients.push(c);
      return c;
    },
    async stop() {
      await http.shutdown();
      await Promise.all(clients.map((c) => c.close()));
      consumers.close();
    },
  };
}

/** The report numbered `n` for `consumerId`: its client order id tells which it was. */
function report(consumerId: string, n: number): ExecReportData {
  return sampleExecReport({ consumerId, clientOrderId: `ord${n}`, seq: 0 });
}

/** Asserts that the wire messages are valid reports numbered `first, first + 1, ...`. */
function assertReportsFrom(messages: Message[], first: number): void {
  messages.forEach((m, i) => {
    const r = execReportFromWire(m);
    assert.equal(r.seq, first + i, `report ${i} of ${messages.length}`);
    assert.equal(r.clientOrderId, `ord${first + i}`, "the log keeps each report's content");
  });
}

Deno.test("ws: a reconnect with exec_seq receives every exec report exactly once, in order", async () => {
  const s = await startStack();
  const id = "strat-x";
  try {
    // A client that stops reading after 20 reports, then loses its connection.
    const a = await RawWsClient.connect(s.http.port, `/v1/stream?consumer=${id}`);
    const seqsOf = (msgs: Message[]) =>
      msgs.filter((m) => m.type === "exec_report").map((m) => m.seq as number);
    try {
      for (let n = 1; n <= 20; n++) s.consumers.enqueueExecReport(report(id, n));
      await a.readUntil("the first 20 reports", () => seqsOf(a.messages).length === 20);
      // Mid-stream: 30 more are handed to the session, which sends them (so the log counts
      // them as delivered), but they are still in the kernel's buffers when the link drops.
      for (let n = 21; n <= 50; n++) s.consumers.enqueueExecReport(report(id, n));
      await waitUntil("50 reports handed over", () => s.consumers.execLog.cursor(id) === 50);
      await waitUntil("them sent", () => s.stream.session(id)!.stats().messagesSent === 50);
    } finally {
      a.close();
    }
    await waitUntil("the consumer removed", () => s.consumers.get(id) === undefined);
    const firstSeqs = seqsOf(a.messages);
    const lastSeen = 20;
    assert.deepEqual(firstSeqs, Array.from({ length: lastSeen }, (_, i) => i + 1));
    // Without exec_seq a new connection would continue at 51: 21..50 would be lost.
    assert.equal(s.consumers.execLog.cursor(id), 50);

    // Away: reports go to the durable log only.
    for (let n = 51; n <= 80; n++) s.consumers.enqueueExecReport(report(id, n));
    assert.equal(s.consumers.execLog.head(id), 80);

    // More keep coming while the client reconnects (before, during and after the upgrade).
    let next = 81;
    const appender = setInterval(() => {
      for (let i = 0; i < 4 && next <= 120; i++) s.consumers.enqueueExecReport(report(id, next++));
      if (next > 120) clearInterval(appender);
    }, 1);
    let b: Client;
    try {
      b = await s.connect(`consumer=${id}&exec_seq=${lastSeen}`);
      await waitUntil("every report", () => b.lastSeq() === 120);
    } finally {
      clearInterval(appender);
    }

    const notice = b.messages[0];
    schemas.assertValid("control", notice);
    schemas.assertDocumented("control", notice);
    const resume = controlFromWire(notice);
    assert.equal(resume.type, "exec_resume");
    assert.ok(resume.type === "exec_resume");
    assert.equal(resume.lastSeenSeq, lastSeen);
    assert.equal(resume.nextSeq, lastSeen + 1);
    assert.equal(resume.unavailable, 0);
    assert.ok(resume.headSeq >= 80 && resume.headSeq <= 120, `head ${resume.headSeq}`);

    const reports = b.messages.slice(1);
    assert.ok(reports.every((m) => m.type === "exec_report"), "nothing but reports follows");
    for (const m of reports) schemas.assertValid("exec_report", m);
    assertReportsFrom(reports, lastSeen + 1);
    // Together: 1..120, each exactly once, in order.
    assert.deepEqual(
      [...firstSeqs, ...b.reportSeqs()],
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      reports[reports.length - 1],
      execReportToWire(
        { ...report(id, 120), seq: 120 },
      ),
    );
  } finally {
    await s.stop();
  }
});

Deno.test("ws: exec_seq after pruned reports says how many are unavailable; bad values get 400", async (t) => {
  const execLog = new ExecReportLog({ replayEntriesMax: 2 });
  const s = await startStack(execLog);
  const id = "strat-y";
  try {
    const a = await s.connect(`consumer=${id}`);
    for (let n = 1; n <= 10; n++) s.consumers.enqueueExecReport(report(id, n));
    await waitUntil("10 reports", () => a.lastSeq() === 10);
    await a.close();
    await waitUntil("the consumer removed", () => s.consumers.get(id) === undefined);
    // Acknowledged up to 10; two kept for a rewind.
    assert.deepEqual(execLog.position(id), { head: 10, cursor: 10, oldest: 9 });

    await t.step(
      "a rewind past the replay window: exec_resume counts the lost reports",
      async () => {
        const b = await s.connect(`consumer=${id}&exec_seq=3`);
        await waitUntil("the rewound reports", () => b.lastSeq() === 10);
        assert.deepEqual(b.messages[0], {
          v: 1,
          type: "exec_resume",
          last_seen_seq: 3,
          next_seq: 9,
          head_seq: 10,
          unavailable: 5,
        });
        assertReportsFrom(b.messages.slice(1), 9);
        await b.close();
        await waitUntil("the consumer removed", () => s.consumers.get(id) === undefined);
      },
    );

    await t.step("nothing new: the notice alone says the client is up to date", async () => {
      const c = await s.connect(`consumer=${id}&exec_seq=10`);
      await waitUntil("the notice", () => c.messages.length === 1);
      assert.deepEqual(c.messages[0], {
        v: 1,
        type: "exec_resume",
        last_seen_seq: 10,
        next_seq: 11,
        head_seq: 10,
        unavailable: 0,
      });
      s.consumers.enqueueExecReport(report(id, 11));
      await waitUntil("report 11", () => c.lastSeq() === 11);
      await c.close();
      await waitUntil("the consumer removed", () => s.consumers.get(id) === undefined);
    });

    await t.step(
      "an exec_seq beyond the head or not an integer: 400 before the upgrade",
      async () => {
        const headers = { upgrade: "websocket", connection: "Upgrade" };
        const beyond = s.stream.upgrade(
          new Request(`http://127.0.0.1/v1/stream?consumer=${id}&exec_seq=12`, { headers }),
        );
        assert.equal(beyond.status, 400);
        assert.match(
          (await beyond.json()).error,
          /expected a last seen exec report seq at most 11, found 12/,
        );
        for (const bad of ["-1", "1.5", "abc", "01", "99999999999999999"]) {
          const res = s.stream.upgrade(
            new Request(`http://127.0.0.1/v1/stream?consumer=${id}&exec_seq=${bad}`, { headers }),
          );
          assert.equal(res.status, 400, bad);
          assert.match((await res.json()).error, /expected \?exec_seq= to be the seq of the last/);
        }
        assert.equal(s.consumers.get(id), undefined, "a refused connection leaves no consumer");
        assert.equal(s.stream.stats().connectionsRejected.bad_exec_seq, 6);
        // The refusal acknowledged nothing.
        assert.equal(execLog.cursor(id), 11);
      },
    );
  } finally {
    await s.stop();
    execLog.close();
  }
});
