/**
 * Test support: a WebSocket client written by hand over `Deno.connect`, for the cases Deno's
 * built-in client cannot play: it reads only when told to (a consumer that stops reading, so the
 * gateway's send buffer and the kernel's buffers fill), and it can drop the TCP connection
 * without a closing handshake (frames in flight are then lost, as on a real network failure).
 *
 * It speaks just enough RFC 6455 for the gateway: the upgrade, unmasked server frames (text,
 * continuation, close; pings are counted and not answered), masked client text and close frames.
 *
 * @module
 */

import assert from "node:assert/strict";

/** One JSON message received (array frames are flattened). */
export type RawMessage = Record<string, unknown>;

/** The close frame the server sent. */
export interface RawCloseFrame {
  /** Close code (1005 when the frame carried none). */
  code: number;
  /** Close reason. */
  reason: string;
}

const OP_CONTINUATION = 0;
const OP_TEXT = 1;
const OP_CLOSE = 8;
const OP_PING = 9;
const READ_CHUNK_BYTES = 256 * 1024;
const WAIT_MS_DEFAULT = 5000;
/** While a read is pending, the condition is checked again this often (it may depend on more
 * than the data read). */
const RECHECK_MS = 20;
const TIMED_OUT = Symbol("timed out");

/** A hand-rolled WebSocket client connection. Always `close()` it. */
export class RawWsClient {
  /** Messages received, in order. */
  readonly messages: RawMessage[] = [];
  /** Text frames received (a frame holds one message or an array of them). */
  textFrames = 0;
  /** Bytes read from the socket. */
  bytesRead = 0;
  /** Pings received (not answered). */
  pings = 0;
  /** The server's close frame, once read. */
  closeFrame: RawCloseFrame | null = null;
  /** True once the server ended the TCP stream. */
  eof = false;
  /** The 101 response head. */
  readonly responseHead: string;

  readonly #conn: Deno.TcpConn;
  readonly #chunk = new Uint8Array(READ_CHUNK_BYTES);
  readonly #decoder = new TextDecoder();
  #acc = new Uint8Array(READ_CHUNK_BYTES);
  #accStart = 0;
  #accEnd = 0;
  #fragments: Uint8Array[] = [];
  #pending: Promise<number | null> | null = null;
  #closed = false;

  private constructor(conn: Deno.TcpConn, head: string, rest: Uint8Array) {
    this.#conn = conn;
    this.responseHead = head;
    this.#feed(rest);
  }

  /** Opens `ws://127.0.0.1:<port><path>`; throws unless the answer is `101`. */
  static async connect(port: number, path: string): Promise<RawWsClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    try {
      await writeAll(conn, new TextEncoder().encode(request));
      let bytes: Uint8Array = new Uint8Array(0);
      const buf = new Uint8Array(4096);
      for (;;) {
        const end = indexOfHeadEnd(bytes);
        if (end >= 0) {
          const head = new TextDecoder().decode(bytes.subarray(0, end));
          if (!head.startsWith("HTTP/1.1 101")) {
            throw new Error(`expected a 101 upgrade, found: ${head.split("\r\n")[0]}`);
          }
          return new RawWsClient(conn, head, bytes.slice(end + 4));
        }
        const n = await conn.read(buf);
        if (n === null) {
          throw new Error("expected an upgrade response, found the connection closed");
        }
        bytes = concat(bytes, buf.subarray(0, n));
      }
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** Sends one text frame (masked, as a client must). */
  async sendText(text: string): Promise<void> {
    await writeAll(this.#conn, maskedFrame(OP_TEXT, new TextEncoder().encode(text)));
  }

  /** Sends a close frame with `code` (answering the server's, or starting the handshake). */
  async sendClose(code = 1000): Promise<void> {
    await writeAll(this.#conn, maskedFrame(OP_CLOSE, new Uint8Array([code >> 8, code & 0xff])));
  }

  /**
   * Reads (and parses) until `cond()` holds, then stops reading: the rest stays in the kernel's
   * buffers (a read already pending keeps its data for the next call). Throws when the stream
   * ends first or after `timeoutMs`.
   */
  async readUntil(what: string, cond: () => boolean, timeoutMs = WAIT_MS_DEFAULT): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.eof) throw new Error(`raw ws client: connection ended before ${what}`);
      this.#pending ??= this.#conn.read(this.#chunk);
      const n = await withDeadline(
        this.#pending,
        Math.min(deadline, performance.now() + RECHECK_MS),
      );
      if (n === TIMED_OUT) {
        if (performance.now() >= deadline) {
          throw new Error(`raw ws client: timed out waiting for ${what}`);
        }
        continue;
      }
      this.#pending = null;
      if (n === null) {
        this.eof = true;
        continue;
      }
      this.bytesRead += n;
      this.#feed(this.#chunk.subarray(0, n));
    }
  }

  /** Reads everything until the server's close frame. */
  async readUntilCloseFrame(timeoutMs = WAIT_MS_DEFAULT): Promise<RawCloseFrame> {
    await this.readUntil("the close frame", () => this.closeFrame !== null, timeoutMs);
    return this.closeFrame!;
  }

  /** Drops the TCP connection at once (no closing handshake); unread data is lost. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A read still pending fails once the connection is closed: nothing waits for it.
    this.#pending?.catch(() => {});
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  #feed(bytes: Uint8Array): void {
    this.#append(bytes);
    for (;;) {
      const frame = this.#nextFrame();
      if (frame === null) return;
      this.#handle(frame.op, frame.fin, frame.payload);
    }
  }

  #append(bytes: Uint8Array): void {
    const live = this.#accEnd - this.#accStart;
    if (this.#accEnd + bytes.length > this.#acc.length) {
      const size = Math.max(this.#acc.length, (live + bytes.length) * 2);
      const grown = new Uint8Array(size);
      grown.set(this.#acc.subarray(this.#accStart, this.#accEnd));
      this.#acc = grown;
      this.#accStart = 0;
      this.#accEnd = live;
    }
    this.#acc.set(bytes, this.#accEnd);
    this.#accEnd += bytes.length;
  }

  #nextFrame(): { op: number; fin: boolean; payload: Uint8Array } | null {
    const a = this.#acc;
    const start = this.#accStart;
    const avail = this.#accEnd - start;
    if (avail < 2) return null;
    const fin = (a[start] & 0x80) !== 0;
    const op = a[start] & 0x0f;
    assert.equal(a[start + 1] & 0x80, 0, "server frames are not masked");
    let len = a[start + 1] & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (avail < 4) return null;
      len = (a[start + 2] << 8) | a[start + 3];
      offset = 4;
    } else if (len === 127) {
      if (avail < 10) return null;
      len = Number(new DataView(a.buffer, a.byteOffset + start + 2, 8).getBigUint64(0));
      offset = 10;
    }
    if (avail < offset + len) return null;
    const payload = a.slice(start + offset, start + offset + len);
    this.#accStart = start + offset + len;
    if (this.#accStart === this.#accEnd) {
      this.#accStart = 0;
      this.#accEnd = 0;
    }
    return { op, fin, payload };
  }

  #handle(op: number, fin: boolean, payload: Uint8Array): void {
    switch (op) {
      case OP_TEXT:
      case OP_CONTINUATION: {
        this.#fragments.push(payload);
        if (!fin) return;
        const whole = this.#fragments.length === 1 ? payload : this.#fragments.reduce(concat);
        this.#fragments = [];
        this.textFrames++;
        const frame = JSON.parse(this.#decoder.decode(whole));
        if (Array.isArray(frame)) {
          assert.ok(frame.length >= 2, "an array frame carries at least two messages");
          for (const m of frame) this.messages.push(m as RawMessage);
        } else {
          this.messages.push(frame as RawMessage);
        }
        return;
      }
      case OP_CLOSE:
        this.closeFrame = payload.length >= 2
          ? {
            code: (payload[0] << 8) | payload[1],
            reason: this.#decoder.decode(payload.subarray(2)),
          }
          : { code: 1005, reason: "" };
        return;
      case OP_PING:
        this.pings++;
        return;
      default:
        return;
    }
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function maskedFrame(op: number, payload: Uint8Array): Uint8Array {
  assert.ok(payload.length < 65_536, "commands are short");
  const header = payload.length < 126 ? 2 : 4;
  const frame = new Uint8Array(header + 4 + payload.length);
  frame[0] = 0x80 | op;
  if (header === 2) {
    frame[1] = 0x80 | payload.length;
  } else {
    frame[1] = 0x80 | 126;
    frame[2] = payload.length >> 8;
    frame[3] = payload.length & 0xff;
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, header);
  for (let i = 0; i < payload.length; i++) frame[header + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `promise`'s value, or {@linkcode TIMED_OUT} at `deadline` (performance.now() ms). */
async function withDeadline<T>(
  promise: Promise<T>,
  deadline: number,
): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
