/**
 * Test support: a trading consumer of the gateway's `/v1/stream` endpoint, as a client author
 * would write it (docs/server.md): Deno's WebSocket with the trading token on the upgrade
 * request, commands as text frames, frames holding one message or an array of them. Unlike
 * `StreamClient` it does not keep market events (it counts them), so it can stay connected
 * through a long, busy run: acks are indexed by `req_id`, execution reports kept in order.
 *
 * Also {@linkcode upgradeStatus}: the HTTP status of a refused upgrade (Deno's WebSocket does
 * not expose it).
 *
 * @module
 */

import assert from "node:assert/strict";

/** One wire message (`ack`, `exec_report`, `event`, ...), as parsed. */
export type WireMessage = Record<string, unknown>;

/** Bound on waiting for the socket to open or close, ms. */
const SOCKET_WAIT_MS = 5000;
/** Default bound of {@linkcode TraderClient.waitFor}, ms. */
const WAIT_MS_DEFAULT = 10_000;
/** How often {@linkcode TraderClient.waitFor} checks its condition, ms. */
const POLL_MS = 5;

/** Options of {@linkcode TraderClient.connect}. */
export interface TraderClientOptions {
  consumerId: string;
  /** The trading token; none: an ordinary market-data consumer. */
  token?: string;
  /** How the token travels: the `Authorization` header (default) or `&token=`. */
  tokenVia?: "header" | "query";
  /** `exec_seq` of the connection, when given. */
  execSeq?: number;
}

/** A consumer connected to `/v1/stream`. Always `await client.close()`. */
export class TraderClient {
  /** Acks by `req_id` (the first one of each id). */
  readonly acks: Map<string, WireMessage> = new Map();
  /** How many acks arrived (a second ack for one `req_id` would show here). */
  ackCount = 0;
  /** Execution reports, in arrival order. */
  readonly reports: WireMessage[] = [];
  /** Market `event` messages received, by provider. */
  readonly eventsByProvider: Map<string, number> = new Map();
  /** Every other message (exec_resume, gap, ...), in order. */
  readonly others: WireMessage[] = [];
  /** The close event once the socket closed. */
  closeEvent: CloseEvent | null = null;
  readonly consumerId: string;
  readonly #ws: WebSocket;
  readonly #closed: Promise<void>;

  private constructor(ws: WebSocket, consumerId: string) {
    this.#ws = ws;
    this.consumerId = consumerId;
    ws.onmessage = (e: MessageEvent) => {
      assert.equal(typeof e.data, "string", "the gateway sends text frames");
      const frame: unknown = JSON.parse(e.data as string);
      if (Array.isArray(frame)) {
        for (const m of frame) this.#take(m as WireMessage);
      } else {
        this.#take(frame as WireMessage);
      }
    };
    this.#closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        this.closeEvent = e;
        resolve();
      };
    });
  }

  /** Connects to `ws://host:port/v1/stream?consumer=<id>` (with the token, if given). */
  static async connect(
    address: { host: string; port: number },
    opts: TraderClientOptions,
  ): Promise<TraderClient> {
    let url = `ws://${address.host}:${address.port}/v1/stream?consumer=${
      encodeURIComponent(opts.consumerId)
    }`;
    if (opts.execSeq !== undefined) url += `&exec_seq=${opts.execSeq}`;
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) {
      if (opts.tokenVia === "query") url += `&token=${encodeURIComponent(opts.token)}`;
      else headers.authorization = `Bearer ${opts.token}`;
    }
    const ws = new WebSocket(url, { headers });
    const client = new TraderClient(ws, opts.consumerId);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
        timer = setTimeout(
          () => reject(new Error(`expected the socket open within ${SOCKET_WAIT_MS} ms`)),
          SOCKET_WAIT_MS,
        );
      });
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Sends one command object as a text frame. */
  send(command: WireMessage): void {
    this.#ws.send(JSON.stringify(command));
  }

  /** Market events received, all providers. */
  get eventCount(): number {
    let n = 0;
    for (const c of this.eventsByProvider.values()) n += c;
    return n;
  }

  /** Execution reports of one client order id, in arrival order. */
  reportsOf(clientOrderId: string): WireMessage[] {
    return this.reports.filter((r) => r.client_order_id === clientOrderId);
  }

  /** Polls `cond` until it holds; throws after `timeoutMs` naming `what`. */
  async waitFor(what: string, cond: () => boolean, timeoutMs = WAIT_MS_DEFAULT): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.closeEvent !== null) {
        throw new Error(
          `${this.consumerId}: socket closed (${this.closeEvent.code} ${this.closeEvent.reason}) while waiting for ${what}`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(`${this.consumerId}: expected ${what} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Sends `command` and waits for its ack (by its `req_id`). */
  async request(command: WireMessage, timeoutMs = WAIT_MS_DEFAULT): Promise<WireMessage> {
    const reqId = String(command.req_id);
    this.send(command);
    await this.waitFor(`the ack of ${reqId}`, () => this.acks.has(reqId), timeoutMs);
    return this.acks.get(reqId)!;
  }

  /** Closes with 1000 and waits (bounded) for the close event. */
  async close(): Promise<void> {
    if (this.closeEvent === null && this.#ws.readyState !== WebSocket.CLOSED) {
      this.#ws.close(1000, "done");
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#closed,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`expected the close within ${SOCKET_WAIT_MS} ms`)),
            SOCKET_WAIT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #take(m: WireMessage): void {
    switch (m.type) {
      case "event": {
        const p = String(m.provider);
        this.eventsByProvider.set(p, (this.eventsByProvider.get(p) ?? 0) + 1);
        return;
      }
      case "ack": {
        this.ackCount++;
        const id = String(m.req_id);
        if (!this.acks.has(id)) this.acks.set(id, m);
        return;
      }
      case "exec_report":
        this.reports.push(m);
        return;
      default:
        this.others.push(m);
    }
  }
}

/**
 * Sends a WebSocket upgrade request for `path` over a plain TCP connection and returns the HTTP
 * status line's code and the response body (up to the first read that completes it), so a test
 * can see why an upgrade was refused. A `101` answer is closed at once.
 */
export async function upgradeStatus(
  port: number,
  path: string,
): Promise<{ status: number; head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const bytes = new TextEncoder().encode(request);
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    let text = "";
    const buf = new Uint8Array(4096);
    const decoder = new TextDecoder();
    const deadline = performance.now() + SOCKET_WAIT_MS;
    for (;;) {
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = text.slice(0, end);
        const status = Number(head.split(" ")[1]);
        if (status === 101) return { status, head, body: "" };
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? "0");
        const body = text.slice(end + 4);
        if (new TextEncoder().encode(body).length >= length) return { status, head, body };
      }
      assert.ok(performance.now() < deadline, `expected an upgrade answer, found "${text}"`);
      const n = await conn.read(buf);
      if (n === null) {
        const head = text.slice(0, Math.max(0, text.indexOf("\r\n\r\n")));
        return { status: Number(head.split(" ")[1]), head, body: text.slice(head.length + 4) };
      }
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } finally {
    conn.close();
  }
}
