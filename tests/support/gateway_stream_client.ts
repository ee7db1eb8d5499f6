/**
 * Test support: a remote consumer of the gateway's `/v1/stream` endpoint written as a client
 * author would write it (docs/server.md): Deno's WebSocket, one command per text frame, and
 * frames that hold either one message or an array of messages.
 *
 * @module
 */

import assert from "node:assert/strict";

/** One wire message (an `event`, an `ack`, ...), as parsed. */
export type WireMessage = Record<string, unknown>;

/** Bound on waiting for the socket to open or close, ms. */
const SOCKET_WAIT_MS = 3000;

/** A consumer connected to `/v1/stream`. Always `await client.close()`. */
export class StreamClient {
  /** Every message received, in order (array frames flattened). */
  readonly messages: WireMessage[] = [];
  /** Frames received that were arrays (batches). */
  arrayFrames = 0;
  /** The close event once the socket closed. */
  closeEvent: CloseEvent | null = null;
  readonly #ws: WebSocket;
  readonly #closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e: MessageEvent) => {
      assert.equal(typeof e.data, "string", "the gateway sends text frames");
      const frame: unknown = JSON.parse(e.data as string);
      if (Array.isArray(frame)) {
        assert.ok(frame.length >= 2, "an array frame carries at least two messages");
        this.arrayFrames++;
        for (const m of frame) this.messages.push(m as WireMessage);
      } else {
        this.messages.push(frame as WireMessage);
      }
    };
    this.#closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        this.closeEvent = e;
        resolve();
      };
    });
  }

  /** Connects to `ws://host:port/v1/stream?consumer=<consumerId>`. */
  static async connect(
    host: string,
    port: number,
    opts: { consumerId: string },
  ): Promise<StreamClient> {
    const url = `ws://${host}:${port}/v1/stream?consumer=${encodeURIComponent(opts.consumerId)}`;
    const ws = new WebSocket(url);
    const client = new StreamClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) => reject(new Error(`connect failed: ${(e as ErrorEvent).message}`));
    });
    return client;
  }

  /** Sends one command object as a text frame. */
  send(command: WireMessage): void {
    this.#ws.send(JSON.stringify(command));
  }

  /** Messages of type `event`, optionally only of one kind and symbol. */
  events(kind?: string, symbol?: string): WireMessage[] {
    return this.messages.filter((m) =>
      m.type === "event" && (kind === undefined || m.kind === kind) &&
      (symbol === undefined || m.symbol === symbol)
    );
  }

  /** The ack carrying `reqId`, if it arrived. */
  ack(reqId: string): WireMessage | undefined {
    return this.messages.find((m) => m.type === "ack" && m.req_id === reqId);
  }

  /** Closes with 1000 and waits (bounded) for the close event. */
  async close(): Promise<void> {
    if (this.closeEvent === null) this.#ws.close(1000, "done");
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
}
