/**
 * The listening side every simulator shares: a {@linkcode TcpFront} on the public port, piping
 * each client to a `Deno.serve` listener on a private port behind it, so a connection can be
 * cut abruptly (no close frame). One port serves REST and WebSocket upgrades.
 *
 * @module
 */

import { TcpFront } from "./tcp_front.ts";

/** Options of {@linkcode LoopbackServer.listen}. */
export interface LoopbackServerOptions {
  /** Address to bind (loopback; an IPv6 address is bracketed in URLs). */
  readonly hostname: string;
  /** Public port, 0 = any free port. */
  readonly port: number;
  /** Answer to a request whose handler threw (default: Deno's plain 500). */
  readonly onError?: (err: unknown) => Response | Promise<Response>;
}

/**
 * A simulator's front and server. Create with {@linkcode LoopbackServer.listen}; always
 * {@linkcode LoopbackServer.close} it.
 *
 * @example
 * ```ts
 * const server = LoopbackServer.listen(
 *   { hostname: "127.0.0.1", port: 0 },
 *   (request, info) => new Response(`port ${info.remoteAddr.port}`),
 * );
 * const res = await fetch(server.httpUrl("/ping"));
 * await res.body?.cancel();
 * await server.close();
 * ```
 */
export class LoopbackServer {
  /** The public port (the front's). */
  readonly port: number;
  /** Host part of URLs: the hostname, bracketed when it is an IPv6 address. */
  readonly urlHost: string;
  readonly #front: TcpFront;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  private constructor(front: TcpFront, server: Deno.HttpServer<Deno.NetAddr>, hostname: string) {
    this.#front = front;
    this.#server = server;
    this.port = front.port;
    this.urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
  }

  /**
   * Binds the public port first (throws when it is taken, with nothing started), then the
   * server behind it; a failure of the second closes the first. `handler` sees the front's
   * upstream port as `info.remoteAddr.port`: the key {@linkcode LoopbackServer.drop} takes.
   */
  static listen(
    opts: LoopbackServerOptions,
    handler: Deno.ServeHandler<Deno.NetAddr>,
  ): LoopbackServer {
    const front = TcpFront.bind({ hostname: opts.hostname, port: opts.port });
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      const serveOptions: Deno.ServeTcpOptions = {
        hostname: opts.hostname,
        port: 0,
        onListen: () => {},
      };
      if (opts.onError !== undefined) serveOptions.onError = opts.onError;
      server = Deno.serve(serveOptions, handler);
    } catch (err) {
      void front.close();
      throw err;
    }
    front.start(server.addr.port);
    return new LoopbackServer(front, server, opts.hostname);
  }

  /** `http://host:port` followed by `path`. */
  httpUrl(path = ""): string {
    return `http://${this.urlHost}:${this.port}${path}`;
  }

  /** `ws://host:port` followed by `path`. */
  wsUrl(path = ""): string {
    return `ws://${this.urlHost}:${this.port}${path}`;
  }

  /** Cuts the client piped through `remotePort` (TCP close, no close frame); false if unknown. */
  drop(remotePort: number): boolean {
    return this.#front.drop(remotePort);
  }

  /** Closes the front (every piped connection), then shuts the server down. */
  async close(): Promise<void> {
    await this.#front.close();
    await this.#server.shutdown();
  }
}
