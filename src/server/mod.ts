/**
 * The outside face: the consumer WebSocket endpoint (`/v1/stream`), the HTTP control API,
 * status routes, `/metrics`, health and readiness. Protocol for client authors:
 * `docs/server.md`.
 *
 * @example
 * ```ts
 * const stream = new StreamServer({ consumers: registry, metrics });
 * const http = await startHttpServer({ host: "127.0.0.1", port: 8080, status, stream });
 * // Orders (optional): one order plane shared by both surfaces.
 * // const orders = new OrderControl({ desk, auth: new ConsumerAuth(config), metrics });
 * // new StreamServer({ ..., orders }); startHttpServer({ ..., orders });
 * // ...
 * await http.shutdown(); // closes every WebSocket with 1001, then stops serving
 * ```
 *
 * @module
 */

export {
  handleRequest,
  type HandleRequestOptions,
  type HttpServerOptions,
  ROUTES,
  type RunningHttpServer,
  startHttpServer,
} from "./http_server.ts";
export type { GatewayStatus } from "./gateway_status.ts";
export { BOOK_VIEW_STATES, type BookStateView, type BookViewState } from "./book_state_view.ts";
export {
  type ControlContext,
  type ControlCounters,
  HTTP_REQ_ID_DEFAULT,
  methodNotAllowed,
  newControlCounters,
  registerControlMetrics,
  routeControl,
} from "./control_api.ts";
export {
  applyCommand,
  type ApplyCommandOptions,
  binaryFrameOutcome,
  clampMessage,
  COMMAND_CHARS_MAX_DEFAULT,
  type CommandOutcome,
  type CommandStatus,
  type CommandTarget,
  handleCommandText,
  type HandleCommandTextOptions,
  handleCommandValue,
  type ServerErrorCode,
} from "./command_handler.ts";
export { ackResponse, errorResponse, JSON_CONTENT_TYPE, jsonResponse } from "./http_response.ts";
export {
  BODY_BYTES_MAX_DEFAULT,
  type JsonBodyResult,
  readJsonBody,
  type ReadJsonBodyOptions,
} from "./request_body.ts";
export {
  BATCH_CHARS_MAX_DEFAULT,
  BATCH_MESSAGES_MAX_DEFAULT,
  OutboundQueue,
  type OutboundQueueOptions,
} from "./outbound_queue.ts";
export { resolveStreamLimits, STREAM_LIMITS_DEFAULT, type StreamLimits } from "./stream_limits.ts";
export { registerStreamMetrics, type StreamStatsSource } from "./stream_metrics.ts";
export {
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_SLOW_CONSUMER,
  type SessionSocket,
  type SlowConsumerInfo,
  StreamSession,
  type StreamSessionOptions,
} from "./stream_session.ts";
export {
  type ConnectAccepted,
  CONNECTIONS_MAX_DEFAULT,
  type ConnectOptions,
  type ConnectRefused,
  CONSUMER_ID_HEADER,
  type DisconnectInfo,
  EXEC_SEQ_PARAM,
  IDLE_TIMEOUT_MS_DEFAULT,
  SHUTDOWN_CLOSE_REASON,
  SHUTDOWN_CLOSE_TIMEOUT_MS_DEFAULT,
  STREAM_PATH,
  StreamServer,
  type StreamServerOptions,
} from "./stream_server.ts";
export {
  DISCONNECT_REASONS,
  type DisconnectReason,
  newTrafficCounters,
  REJECT_REASONS,
  type RejectReason,
  type SessionState,
  type StreamServerStats,
  type StreamSessionStats,
  type TrafficCounters,
  zeroCounts,
} from "./stream_stats.ts";
export {
  bearerToken,
  constantTimeEqual,
  ConsumerAuth,
  type ConsumerAuthOptions,
  type ConsumerAuthTokens,
  SHA256_BYTES,
  sha256Hex,
  TOKEN_PARAM,
  type TokenRole,
  type TraderEntry,
} from "./consumer_auth.ts";
export {
  ORDER_CODES,
  type OrderCommandContext,
  type OrderDesk,
  type OrderOutcome,
} from "./order_desk.ts";
export {
  httpStatusOfOrder,
  ORDER_COMMAND_OUTCOMES,
  ORDER_COMMAND_SURFACES,
  type OrderCommandCounts,
  type OrderCommandOutcome,
  type OrderCommandSurface,
  OrderControl,
  type OrderControlOptions,
  outcomeOfCode,
} from "./order_control.ts";
export {
  applyOrderCommand,
  type OrderCaller,
  type OrderCommand,
  type OrderCommandResult,
  unauthorizedMessage,
} from "./order_commands.ts";
export {
  type OrderApiContext,
  ORDERS_LIMIT_DEFAULT,
  ORDERS_LIMIT_MAX,
  routeConsumerOrders,
  routeTrading,
} from "./order_api.ts";
