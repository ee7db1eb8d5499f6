/**
 * One client connection of the Kraken simulator's authenticated endpoint (`ws-auth`): its
 * socket, its `executions` subscription (account and message sequence) and the frames it sent.
 *
 * @module
 */

/** The `executions` subscription of a connection. */
export interface ExecutionsSubscription {
  /** Account (API key) whose orders are streamed. */
  readonly apiKey: string;
  /** Sequence of the last message sent (the snapshot is 1). */
  sequence: number;
}

/** A connection to the auth endpoint. */
export class AuthConnection {
  /** Endpoint-wide id (1, 2, ...). */
  readonly id: number;
  /** Port the HTTP server saw (key of the TCP front pair). */
  readonly remotePort: number;
  /** The executions subscription, null when none. */
  executions: ExecutionsSubscription | null = null;
  /** `performance.now()` of the last frame sent. */
  lastSentMs: number;
  /** Frames sent. */
  framesSent = 0;
  readonly #socket: WebSocket;

  /** Wraps an upgraded socket. */
  constructor(options: { id: number; remotePort: number; socket: WebSocket }) {
    this.id = options.id;
    this.remotePort = options.remotePort;
    this.#socket = options.socket;
    this.lastSentMs = performance.now();
  }

  /** Sends one text frame when the socket is open. */
  send(text: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(text);
    this.framesSent++;
    this.lastSentMs = performance.now();
  }

  /** Closes with a close frame. */
  close(code: number, reason: string): void {
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }
}
