/**
 * Test support: a WebSocket client that keeps every frame (parsed JSON or raw text) and the close
 * event, shared by the OKX simulator tests.
 *
 * @module
 */

export type Msg = Record<string, unknown>;

/** A test client that keeps every frame (parsed JSON or raw text) and the close event. */
export class Client {
  readonly frames: (Msg | string)[] = [];
  readonly closed: Promise<CloseEvent>;
  readonly #ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.addEventListener("close", resolve));
    ws.onmessage = (e) => {
      const text = String(e.data);
      try {
        this.frames.push(JSON.parse(text) as Msg);
      } catch {
        this.frames.push(text);
      }
    };
  }

  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    return new Client(ws);
  }

  send(data: unknown): void {
    this.#ws.send(typeof data === "string" ? data : JSON.stringify(data));
  }

  async waitFor(predicate: (f: Msg | string) => boolean, timeoutMs = 3000): Promise<Msg | string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found !== undefined) return found;
      if (performance.now() > deadline) throw new Error("timed out waiting for a frame");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.closed;
  }
}
