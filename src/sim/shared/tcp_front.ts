/**
 * A loopback TCP front for a simulator's HTTP/WebSocket server. Clients connect to the front;
 * each connection is piped byte for byte to the `Deno.serve` listener behind it. The front
 * exists so the simulator can cut a connection *abruptly* (TCP close, no WebSocket close frame),
 * which `Deno.upgradeWebSocket` sockets cannot do from JavaScript. Piping costs little: reads
 * come in 64 KiB chunks holding hundreds of frames.
 *
 * A pair is keyed by the front's local port on its upstream connection, which is the
 * `remoteAddr.port` the `Deno.serve` handler sees.
 *
 * @module
 */

/** Bytes read per pump call. */
const CHUNK_BYTES = 64 * 1024;
/** Pause after a failed accept before trying again. */
const ACCEPT_RETRY_MS = 10;

interface FrontPair {
  readonly client: Deno.TcpConn;
  readonly upstream: Deno.TcpConn;
  closed: boolean;
}

/**
 * The front. Create with {@link TcpFront.bind}, then start; always {@link TcpFront.close} it.
 *
 * @example
 * ```ts
 * const front = TcpFront.bind({ hostname: "127.0.0.1", port: 0 });
 * front.start(server.addr.port);
 * // in the Deno.serve handler: front.drop(info.remoteAddr.port) cuts that client
 * await front.close();
 * ```
 */
export class TcpFront {
  /** Port clients connect to. */
  readonly port: number;
  readonly #hostname: string;
  readonly #listener: Deno.TcpListener;
  readonly #pairs = new Map<number, FrontPair>();
  readonly #tasks = new Set<Promise<void>>();
  #upstreamPort = 0;
  #closing = false;
  #connectionsAccepted = 0;

  private constructor(listener: Deno.TcpListener, hostname: string) {
    this.#listener = listener;
    this.#hostname = hostname;
    this.port = listener.addr.port;
  }

  /**
   * Binds `hostname:port` (0 = any free port); throws when the port is taken. Nothing is
   * accepted before {@link TcpFront.start}, so the caller can bind the upstream afterwards.
   */
  static bind(options: { hostname: string; port: number }): TcpFront {
    const listener = Deno.listen({ hostname: options.hostname, port: options.port });
    return new TcpFront(listener, options.hostname);
  }

  /** Starts accepting and piping to `hostname:upstreamPort`. */
  start(upstreamPort: number): void {
    if (this.#upstreamPort !== 0) throw new Error("tcp front: expected one start, found a second");
    this.#upstreamPort = upstreamPort;
    this.#track(this.#acceptLoop());
  }

  /** Connections currently piped. */
  get pairCount(): number {
    return this.#pairs.size;
  }

  /** Connections accepted since start. */
  get connectionsAccepted(): number {
    return this.#connectionsAccepted;
  }

  /**
   * Cuts the pair whose upstream local port is `upstreamLocalPort`: both TCP connections close
   * at once, so the client sees end-of-stream without a WebSocket close frame. Returns false
   * when no such pair exists (already gone).
   */
  drop(upstreamLocalPort: number): boolean {
    const pair = this.#pairs.get(upstreamLocalPort);
    if (pair === undefined) return false;
    this.#closePair(upstreamLocalPort, pair);
    return true;
  }

  /** Stops accepting, cuts every pair, and waits for every pump to finish. */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      for (const [key, pair] of this.#pairs) this.#closePair(key, pair);
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closing) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        if (this.#closing) return; // The listener was closed.
        // A transient failure (e.g. out of file descriptors): back off briefly, keep serving.
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      this.#connectionsAccepted++;
      this.#track(this.#connect(client));
    }
  }

  async #connect(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: this.#hostname, port: this.#upstreamPort });
    } catch {
      closeQuietly(client);
      return;
    }
    if (this.#closing) {
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const key = upstream.localAddr.port;
    const pair: FrontPair = { client, upstream, closed: false };
    // Registered before any byte flows, so the server handler always finds its pair.
    this.#pairs.set(key, pair);
    // A failed direction tears the pair down at once, which also ends the other pump's read.
    const onError = (clean: boolean) => {
      if (!clean) this.#closePair(key, pair);
    };
    await Promise.all([pump(client, upstream).then(onError), pump(upstream, client).then(onError)]);
    this.#closePair(key, pair);
  }

  #closePair(key: number, pair: FrontPair): void {
    if (pair.closed) return;
    pair.closed = true;
    if (this.#pairs.get(key) === pair) this.#pairs.delete(key);
    closeQuietly(pair.client);
    closeQuietly(pair.upstream);
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }
}

/**
 * Copies `from` to `to` until end-of-stream (then half-closes `to` and returns true) or an error
 * (returns false).
 */
async function pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<boolean> {
  const buffer = new Uint8Array(CHUNK_BYTES);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      let offset = 0;
      while (offset < n) offset += await to.write(buffer.subarray(offset, n));
    }
    await to.closeWrite();
    return true;
  } catch {
    // Closed by the other pump, by drop() or by the peer: the caller tears the pair down.
    return false;
  }
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
