/**
 * StreamServer: the consumer WebSocket endpoint,
 * `GET /v1/stream[?consumer=<id>][&exec_seq=<n>][&token=<t>]`.
 *
 * Each accepted connection gets a {@linkcode Consumer} in the registry under the requested id
 * (or a generated `ws-...` id, returned in the `x-switchyard-consumer-id` header of the 101
 * response) and a {@linkcode StreamSession} that reads it. An id already connected or in use is
 * refused with 409 before the upgrade. When the connection ends, the consumer is closed, which
 * removes it and all its subscriptions from the routing table.
 *
 * Execution reports outlive the connection: they are kept in the registry's durable log under
 * the consumer id. A client that reconnects with `exec_seq=<n>` (the `seq` of the last report it
 * received) has its consumer rewound with `Consumer.resume(n)` before the session starts, so it
 * receives every later report exactly once, including those the previous connection had taken
 * from the log but not delivered; the connection's first message is then an `exec_resume`
 * notice saying where delivery resumes and how many reports (if any) can no longer be replayed.
 *
 * Trading (MISSION ): a connection that presents the trading token of its consumer id
 * (`Authorization: Bearer <token>`, or `?token=` for clients that cannot set headers) is a
 * *trader*: its `order_submit`, `order_cancel` and `trading` commands go to the order plane
 * (`orders` option). A connection without a token is an ordinary market-data consumer (its order
 * commands answer `unauthorized`). A token that does not authenticate the requested id is
 * refused before the upgrade with 401, without saying whether the id or the token was wrong.
 *
 * Shutdown closes every connection with 1001 "server shutting down" and waits, bounded, for
 * the sockets to finish closing; Deno's `server.shutdown()` runs after that.
 *
 * @module
 */

import type { Consumer, ConsumerRegistry } from "../consumer/mod.ts";
import { type ExecResumeMessage, isConsumerId } from "../schema/mod.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";
import { bearerToken, TOKEN_PARAM } from "./consumer_auth.ts";
import { errorResponse } from "./http_response.ts";
import type { OrderControl } from "./order_control.ts";
import { resolveStreamLimits, type StreamLimits } from "./stream_limits.ts";
import { registerStreamMetrics } from "./stream_metrics.ts";
import {
  CLOSE_GOING_AWAY,
  type SessionSocket,
  type SlowConsumerInfo,
  StreamSession,
} from "./stream_session.ts";
import {
  DISCONNECT_REASONS,
  type DisconnectReason,
  newTrafficCounters,
  REJECT_REASONS,
  type RejectReason,
  type StreamServerStats,
  type StreamSessionStats,
  type TrafficCounters,
  zeroCounts,
} from "./stream_stats.ts";

/** Path of the WebSocket endpoint. */
export const STREAM_PATH = "/v1/stream";
/** Response header of the 101 upgrade that carries the connection's consumer id. */
export const CONSUMER_ID_HEADER = "x-switchyard-consumer-id";
/** Connections served at once by default. */
export const CONNECTIONS_MAX_DEFAULT = 256;
/** Idle timeout by default, ms (Deno pings after half of it, closes 1001 after all of it). */
export const IDLE_TIMEOUT_MS_DEFAULT = 30_000;
/** How long shutdown waits for sockets to finish closing by default, ms. */
export const SHUTDOWN_CLOSE_TIMEOUT_MS_DEFAULT = 2_000;
/** Close reason sent to every client at shutdown. */
export const SHUTDOWN_CLOSE_REASON = "server shutting down";
/** Query parameter carrying the client's last seen exec report sequence. */
export const EXEC_SEQ_PARAM = "exec_seq";

/** A decimal integer without sign or leading zeros, at most 16 digits (then checked as safe). */
const EXEC_SEQ_RE = /^(0|[1-9][0-9]{0,15})$/;

/** Told when a connection ends (for logs); must not throw. */
export interface DisconnectInfo {
  /** The connection's consumer id. */
  consumerId: string;
  /** Why it ended. */
  reason: DisconnectReason;
  /** Its final counters. */
  stats: StreamSessionStats;
}

/** Options of {@linkcode StreamServer}. */
export interface StreamServerOptions {
  /** Where each connection's consumer is created (and removed on close). */
  consumers: ConsumerRegistry;
  /** Bounds of each connection; defaults from `STREAM_LIMITS_DEFAULT`. */
  limits?: Partial<StreamLimits>;
  /** Queue bound of each connection's consumer; default the registry's. */
  queueEventsMax?: number;
  /** Connections served at once. Default {@linkcode CONNECTIONS_MAX_DEFAULT}. */
  connectionsMax?: number;
  /** Deno's idle timeout, ms (rounded up to seconds; 0 disables). Default 30000. */
  idleTimeoutMs?: number;
  /** When given, the endpoint's counters are registered here (`switchyard_ws_*`). */
  metrics?: MetricsRegistry;
  /** Clock in ms; default `Date.now`. */
  now?: () => number;
  /** Told when a connection ends. */
  onDisconnect?: (info: DisconnectInfo) => void;
  /**
   * Told once per backpressure pause of a connection, as it begins (its send buffer crossed the
   * high-water mark); the gateway publishes it as `consumer.slow` telemetry. Must be cheap;
   * exceptions are ignored.
   */
  onSlow?: (info: SlowConsumerInfo) => void;
  /**
   * The order plane (desk and trading tokens). Absent: order commands answer `not_supported`
   * and every presented token is refused (401).
   */
  orders?: OrderControl;
}

/** Options of {@linkcode StreamServer.connect}. */
export interface ConnectOptions {
  /**
   * The client's last seen exec report sequence (`?exec_seq=`): the consumer is resumed from
   * it and the session's first message is an `exec_resume` notice. Absent: delivery continues
   * after the last report acknowledged under this id.
   */
  execSeq?: number;
  /**
   * The credential presented (bearer header or `?token=`); absent or null: none, the
   * connection is a market-data consumer. Checked against the requested id's trading token.
   */
  token?: string | null;
}

/** An admitted connection. */
export interface ConnectAccepted<S extends SessionSocket> {
  /** Admitted. */
  ok: true;
  /** The new session (its consumer is registered). */
  session: StreamSession;
  /** The socket `makeSocket` returned. */
  socket: S;
}

/** A refused connection, with the HTTP answer to give. */
export interface ConnectRefused {
  /** Refused. */
  ok: false;
  /** HTTP status (400, 401, 409, 426, 503). */
  status: number;
  /** Counted reason. */
  reason: RejectReason;
  /** What was expected and what was found. */
  message: string;
}

/** The WebSocket endpoint for remote consumers. */
export class StreamServer {
  /** Bounds of each connection. */
  readonly limits: StreamLimits;
  /** Connections served at once. */
  readonly connectionsMax: number;

  readonly #consumers: ConsumerRegistry;
  readonly #queueEventsMax: number | undefined;
  readonly #idleTimeoutS: number;
  readonly #now: () => number;
  readonly #onDisconnect: ((info: DisconnectInfo) => void) | null;
  readonly #onSlow: ((info: SlowConsumerInfo) => void) | undefined;
  readonly #orders: OrderControl | undefined;
  readonly #sessions = new Map<string, StreamSession>();
  readonly #totals: TrafficCounters = newTrafficCounters();
  readonly #rejected = zeroCounts(REJECT_REASONS);
  readonly #disconnects = zeroCounts(DISCONNECT_REASONS);
  #accepted = 0;
  #closing: Promise<void> | null = null;
  readonly #sessionClosed = (session: StreamSession): void => this.#forget(session);

  /** Creates the endpoint; registers its metrics when `opts.metrics` is given. */
  constructor(opts: StreamServerOptions) {
    this.#consumers = opts.consumers;
    this.limits = resolveStreamLimits(opts.limits);
    this.#queueEventsMax = opts.queueEventsMax;
    this.connectionsMax = opts.connectionsMax ?? CONNECTIONS_MAX_DEFAULT;
    if (!Number.isInteger(this.connectionsMax) || this.connectionsMax < 1) {
      throw new RangeError(`expected an integer connectionsMax >= 1, found ${this.connectionsMax}`);
    }
    const idleTimeoutMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS_DEFAULT;
    if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs < 0) {
      throw new RangeError(`expected idleTimeoutMs >= 0, found ${idleTimeoutMs}`);
    }
    this.#idleTimeoutS = Math.ceil(idleTimeoutMs / 1000);
    this.#now = opts.now ?? Date.now;
    this.#onDisconnect = opts.onDisconnect ?? null;
    this.#onSlow = opts.onSlow;
    this.#orders = opts.orders;
    if (opts.metrics !== undefined) registerStreamMetrics(opts.metrics, this);
  }

  /** True once {@linkcode StreamServer.close} has begun. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /**
   * Answers `GET /v1/stream`: refuses (426, 400, 401, 409, 503, as JSON `{error}`) or upgrades.
   * Reads everything it needs from `req` before returning (Deno closes the request after).
   * Query parameters: `consumer` (the id), `exec_seq` (resume exec reports after it) and
   * `token` (the trading token, when the `Authorization` header cannot be set; the header wins).
   */
  upgrade(req: Request): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      this.#rejected.not_websocket++;
      return errorResponse(
        426,
        `expected a WebSocket upgrade request (Upgrade: websocket) on ${STREAM_PATH}, found none`,
        { headers: { upgrade: "websocket" } },
      );
    }
    const params = new URL(req.url).searchParams;
    const requested = params.get("consumer");
    const execSeqText = params.get(EXEC_SEQ_PARAM);
    let execSeq: number | undefined;
    if (execSeqText !== null) {
      execSeq = EXEC_SEQ_RE.test(execSeqText) ? Number(execSeqText) : NaN;
      if (!Number.isSafeInteger(execSeq)) {
        const refused = this.#refuse(
          400,
          "bad_exec_seq",
          `expected ?${EXEC_SEQ_PARAM}= to be the seq of the last exec report received (an integer >= 0), found "${
            execSeqText.slice(0, 40)
          }"`,
        );
        return errorResponse(refused.status, refused.message);
      }
    }
    const token = bearerToken(req.headers) ?? params.get(TOKEN_PARAM);
    let response: Response | null = null;
    const result = this.connect(requested, () => {
      const upgraded = Deno.upgradeWebSocket(req, { idleTimeout: this.#idleTimeoutS });
      response = upgraded.response;
      return upgraded.socket;
    }, { execSeq, token });
    if (!result.ok) {
      const headers = result.status === 401 ? { "www-authenticate": "Bearer" } : undefined;
      return errorResponse(result.status, result.message, { headers });
    }
    attachWebSocket(result.session, result.socket);
    const upgradeResponse = response as Response | null;
    if (upgradeResponse === null) throw new Error("stream server: upgrade gave no response");
    upgradeResponse.headers.set(CONSUMER_ID_HEADER, result.session.id);
    return upgradeResponse;
  }

  /**
   * Admits a connection under `requestedId` (null: generate one), creates its consumer (resumed
   * from `opts.execSeq` when given), then calls `makeSocket` and builds the session. The
   * transport-neutral half of {@linkcode StreamServer.upgrade}, used directly by tests with a
   * fake socket.
   */
  connect<S extends SessionSocket>(
    requestedId: string | null,
    makeSocket: () => S,
    opts?: ConnectOptions,
  ): ConnectAccepted<S> | ConnectRefused {
    const execSeq = opts?.execSeq;
    if (execSeq !== undefined && !(Number.isSafeInteger(execSeq) && execSeq >= 0)) {
      return this.#refuse(
        400,
        "bad_exec_seq",
        `expected an exec_seq that is an integer >= 0, found ${execSeq}`,
      );
    }
    if (this.#closing !== null) {
      return this.#refuse(
        503,
        "shutting_down",
        "expected a running server, found it shutting down",
      );
    }
    if (this.#sessions.size >= this.connectionsMax) {
      return this.#refuse(
        503,
        "connections_limit",
        `expected fewer than ${this.connectionsMax} connections, found ${this.#sessions.size}`,
      );
    }
    const id = requestedId ?? this.#newConsumerId();
    if (!isConsumerId(id)) {
      return this.#refuse(
        400,
        "bad_consumer_id",
        `expected ?consumer= to be 1..64 of A-Z a-z 0-9 . _ : -, found "${
          String(id).slice(0, 80)
        }"`,
      );
    }
    const token = opts?.token ?? null;
    if (token !== null && !this.#authenticates(requestedId, token)) {
      // One answer for a wrong token, an id without one, or no id: nothing to probe with.
      return this.#refuse(
        401,
        "unauthorized",
        "expected a trading token that authenticates the requested consumer id (?consumer=<id> with Authorization: Bearer <token> or &token=<token>), found a credential that does not",
      );
    }
    if (this.#sessions.has(id)) {
      return this.#refuse(
        409,
        "conflict",
        `expected a consumer id not connected, found "${id}" already connected`,
      );
    }
    if (this.#consumers.get(id) !== undefined) {
      return this.#refuse(
        409,
        "conflict",
        `expected a consumer id not in use, found "${id}" in use by an in-process consumer`,
      );
    }
    let consumer: Consumer;
    try {
      consumer = this.#consumers.create(id, { queueEventsMax: this.#queueEventsMax });
    } catch (err) {
      return this.#refuse(
        503,
        "registry_refused",
        err instanceof Error ? err.message : String(err),
      );
    }
    let execResume: ExecResumeMessage | undefined;
    if (execSeq !== undefined) {
      try {
        // Before the session attaches its reader: the rewind decides the first report it reads.
        const resumed = consumer.resume(execSeq);
        execResume = {
          type: "exec_resume",
          lastSeenSeq: execSeq,
          nextSeq: resumed.nextSeq,
          headSeq: resumed.headSeq,
          unavailable: resumed.unavailable,
        };
      } catch (err) {
        consumer.close();
        return this.#refuse(400, "bad_exec_seq", err instanceof Error ? err.message : String(err));
      }
    }
    let socket: S;
    try {
      socket = makeSocket();
    } catch (err) {
      consumer.close();
      return this.#refuse(
        400,
        "not_websocket",
        `expected a valid WebSocket handshake, found: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    }
    const session = new StreamSession({
      consumer,
      socket,
      limits: this.limits,
      totals: this.#totals,
      onClosed: this.#sessionClosed,
      now: this.#now,
      execResume,
      onSlow: this.#onSlow,
      orders: this.#orders,
      trader: token !== null,
    });
    this.#sessions.set(id, session);
    this.#accepted++;
    return { ok: true, session, socket };
  }

  /** The live session of a consumer id, if it is connected. */
  session(consumerId: string): StreamSession | undefined {
    return this.#sessions.get(consumerId);
  }

  /** The live sessions, in connection order. */
  sessions(): StreamSession[] {
    return [...this.#sessions.values()];
  }

  /** Server-wide counters. */
  stats(): StreamServerStats {
    return {
      ...this.#totals,
      connectionsActive: this.#sessions.size,
      connectionsAccepted: this.#accepted,
      connectionsRejected: { ...this.#rejected },
      disconnects: { ...this.#disconnects },
    };
  }

  /**
   * Shutdown: refuses new connections, closes every live one with 1001 "server shutting down",
   * and waits until their sockets report the close or `timeoutMs` passes. Idempotent.
   */
  close(opts?: { timeoutMs?: number }): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const timeoutMs = opts?.timeoutMs ?? SHUTDOWN_CLOSE_TIMEOUT_MS_DEFAULT;
    const sessions = this.sessions();
    for (const s of sessions) s.close(CLOSE_GOING_AWAY, SHUTDOWN_CLOSE_REASON, "shutdown");
    this.#closing = waitBounded(sessions.map((s) => s.socketClosed), timeoutMs).then(() => {
      for (const s of sessions) s.abandonSocket();
    });
    return this.#closing;
  }

  #forget(session: StreamSession): void {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    const reason = session.disconnectReason;
    if (reason === "") return;
    this.#disconnects[reason]++;
    if (this.#onDisconnect === null) return;
    try {
      this.#onDisconnect({ consumerId: session.id, reason, stats: session.stats() });
    } catch {
      // A logging hook must not break the endpoint.
    }
  }

  /** True when `token` is the trading token of `requestedId` (a generated id has none). */
  #authenticates(requestedId: string | null, token: string): boolean {
    const auth = this.#orders?.auth;
    if (auth === undefined) return false;
    // Checked even without an id, so a refusal takes the same time either way.
    const ok = auth.isTrader(requestedId ?? "", token);
    return ok && requestedId !== null;
  }

  #refuse(status: number, reason: RejectReason, message: string): ConnectRefused {
    this.#rejected[reason]++;
    return { ok: false, status, reason, message };
  }

  #newConsumerId(): string {
    for (;;) {
      const id = "ws-" + crypto.randomUUID().replaceAll("-", "").slice(0, 16);
      if (!this.#sessions.has(id) && this.#consumers.get(id) === undefined) return id;
    }
  }
}

/** Routes a Deno WebSocket's events to its session. */
function attachWebSocket(session: StreamSession, socket: WebSocket): void {
  socket.onopen = () => session.open();
  socket.onmessage = (e: MessageEvent) => {
    const data = e.data;
    if (typeof data === "string") session.handleText(data);
    else session.handleBinary(data instanceof ArrayBuffer ? data.byteLength : (data?.size ?? 0));
  };
  socket.onerror = () => session.handleSocketError();
  socket.onclose = () => session.handleSocketClosed();
}

/** Resolves when every promise has settled or after `timeoutMs`, whichever is first. */
function waitBounded(promises: Promise<void>[], timeoutMs: number): Promise<void> {
  if (promises.length === 0) return Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  return Promise.race([Promise.all(promises).then(() => {}), timeout]).finally(() => {
    clearTimeout(timer);
  });
}
