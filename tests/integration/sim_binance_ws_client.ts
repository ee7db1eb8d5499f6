/**
 * Test helper for the Binance simulator tests: a built-in `WebSocket` client that records every
 * frame, waits for frames with a bound, and always closes within a bound (a bare `close()` can
 * hang forever when the peer never answers).
 *
 * @module
 */

/** A received frame: raw text and its parse (undefined when it is not JSON). */
export interface Received {
  /** Frame text. */
  readonly text: string;
  /** Parsed JSON, or undefined when the text is not valid JSON. */
  readonly json: unknown;
  /** Receive time, ms since the epoch. */
  readonly atMs: number;
}

/** See the module documentation. */
export class TestWsClient {
  /** Every frame received, in order. */
  readonly received: Received[] = [];
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  readonly #socket: WebSocket;
  #closeEvent: CloseEvent | null = null;
  #waiters: (() => void)[] = [];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    const { promise, resolve } = Promise.withResolvers<CloseEvent>();
    this.closed = promise;
    socket.onmessage = (event) => {
      const text = typeof event.data === "string" ? event.data : "";
      let json: unknown = undefined;
      try {
        json = JSON.parse(text);
      } catch {
        // Kept as text: tests of malformed frames look at it.
      }
      this.received.push({ text, json, atMs: Date.now() });
      this.#wake();
    };
    socket.onclose = (event) => {
      this.#closeEvent = event;
      resolve(event);
      this.#wake();
    };
    socket.onerror = () => {};
  }

  /** Opens `url` and waits (at most `timeoutMs`) for the connection to open. */
  static async open(url: string, timeoutMs = 3000): Promise<TestWsClient> {
    const socket = new WebSocket(url);
    const client = new TestWsClient(socket);
    const opened = new Promise<boolean>((resolve) => {
      socket.onopen = () => resolve(true);
      client.closed.then(() => resolve(false));
    });
    const ok = await withTimeout(opened, timeoutMs, "websocket open");
    if (!ok) {
      throw new Error(
        `websocket open: expected the connection to open, found it closed (${url.slice(0, 120)})`,
      );
    }
    return client;
  }

  /** The close event once closed, else null. */
  get closeEvent(): CloseEvent | null {
    return this.#closeEvent;
  }

  /** Sends a JSON value (or raw text). */
  send(message: unknown): void {
    this.#socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Parsed frames matching `predicate`. */
  matching<T = Record<string, unknown>>(
    predicate: (json: Record<string, unknown>) => boolean,
  ): T[] {
    const out: T[] = [];
    for (const r of this.received) {
      if (isRecord(r.json) && predicate(r.json)) out.push(r.json as T);
    }
    return out;
  }

  /** Waits (at most `timeoutMs`) until `condition` holds; re-checked on every frame. */
  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${what}: expected it within ${timeoutMs} ms, found a timeout`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== wake);
          resolve();
        }, Math.min(left, 50));
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.#waiters.push(wake);
      });
    }
  }

  /** Waits for the first frame (from index `from`) matching `predicate` and returns it. */
  async next<T = Record<string, unknown>>(
    predicate: (json: Record<string, unknown>) => boolean,
    timeoutMs = 3000,
    from = 0,
  ): Promise<T> {
    let found: T | undefined;
    await this.until(
      () => {
        for (let i = from; i < this.received.length; i++) {
          const json = this.received[i].json;
          if (isRecord(json) && predicate(json)) {
            found = json as T;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      "matching frame",
    );
    return found!;
  }

  /** Closes and waits for the close event, at most `timeoutMs`. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.#closeEvent !== null) return;
    try {
      this.#socket.close();
    } catch {
      // Already closing.
    }
    await withTimeout(this.closed, timeoutMs, "websocket close");
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Resolves like `promise`, or rejects after `timeoutMs` (the timer is always cleared). */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: expected it within ${timeoutMs} ms, found a timeout`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** GETs `url` and returns status, headers and parsed body (the body is always consumed). */
export async function getJson(
  url: string,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

/** A local order book kept with Binance's documented procedure (§2 of the protocol notes). */
export class LocalBook {
  /** Update id of the last applied event. */
  id = 0;
  /** price → qty. */
  readonly bids = new Map<string, string>();
  /** price → qty. */
  readonly asks = new Map<string, string>();

  /** Loads a REST snapshot. */
  load(
    snapshot: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] },
  ): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of snapshot.bids) this.bids.set(p, q);
    for (const [p, q] of snapshot.asks) this.asks.set(p, q);
    this.id = snapshot.lastUpdateId;
  }

  /** Applies one diff event: "stale", "gap" or "applied". */
  apply(
    event: { U: number; u: number; b: [string, string][]; a: [string, string][] },
  ): "stale" | "gap" | "applied" {
    if (event.u <= this.id) return "stale";
    if (event.U > this.id + 1) return "gap";
    for (const [p, q] of event.b) setLevel(this.bids, p, q);
    for (const [p, q] of event.a) setLevel(this.asks, p, q);
    this.id = event.u;
    return "applied";
  }

  /** Levels sorted best first: bids high to low, asks low to high. */
  sorted(): { bids: [string, string][]; asks: [string, string][] } {
    const byPrice = (x: [string, string], y: [string, string]) => Number(x[0]) - Number(y[0]);
    return {
      bids: [...this.bids].sort(byPrice).reverse(),
      asks: [...this.asks].sort(byPrice),
    };
  }
}

function setLevel(side: Map<string, string>, price: string, qty: string): void {
  if (/^0(\.0+)?$/.test(qty)) side.delete(price);
  else side.set(price, qty);
}

/** Polls `condition` every 10 ms until it holds, failing after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: expected it within ${timeoutMs} ms, found a timeout`);
    }
    await sleep(10);
  }
}
