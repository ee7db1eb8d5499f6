/**
 * Counters of the consumer WebSocket endpoint: per connection and server-wide, with the reasons
 * a connection was refused or ended.
 *
 * @module
 */

import type { ConsumerStats } from "../consumer/mod.ts";

/** Why a connection ended. */
export const DISCONNECT_REASONS = [
  "remote_closed",
  "slow_consumer",
  "shutdown",
  "socket_error",
] as const;

/**
 * - `remote_closed`: the client closed, or the transport did (including Deno's idle timeout);
 * - `slow_consumer`: the send buffer stayed above the high-water mark too long (close 4008);
 * - `shutdown`: the server is stopping (close 1001);
 * - `socket_error`: the socket reported an error (close 1011).
 */
export type DisconnectReason = typeof DISCONNECT_REASONS[number];

/** Why an upgrade request was refused. */
export const REJECT_REASONS = [
  "not_websocket",
  "bad_consumer_id",
  "bad_exec_seq",
  "conflict",
  "connections_limit",
  "shutting_down",
  "registry_refused",
  "unauthorized",
] as const;

/**
 * - `not_websocket`: no `Upgrade: websocket` (426);
 * - `bad_consumer_id`: the `consumer` parameter is not a consumer id (400);
 * - `bad_exec_seq`: the `exec_seq` parameter is not an integer >= 0, or is beyond the last exec
 *   report sequence assigned to the consumer (400);
 * - `conflict`: the id is connected or in use already (409);
 * - `connections_limit`: too many connections (503);
 * - `shutting_down`: the server is stopping (503);
 * - `registry_refused`: the consumer registry or routing table refused the consumer (503);
 * - `unauthorized`: a token was presented that is not the requested id's trading token (401).
 */
export type RejectReason = typeof REJECT_REASONS[number];

/** Traffic counters, kept per connection and summed server-wide. */
export interface TrafficCounters {
  /** Text and binary frames received (each is one command attempt). */
  commands: number;
  /** Commands refused as unreadable or invalid (bad JSON, schema, binary, too large). */
  badCommands: number;
  /** Valid commands not implemented here (merged without merging, orders without a desk). */
  unsupportedCommands: number;
  /** Valid commands refused (routing table, order desk, missing trading credential). */
  refusedCommands: number;
  /** Acks sent. */
  acksSent: number;
  /** WebSocket frames sent (acks and events). */
  framesSent: number;
  /** Event messages sent (an array frame counts each message). */
  messagesSent: number;
  /** Array frames sent (frames holding two or more messages). */
  batches: number;
  /** Characters sent in frames (= bytes: the wire format is ASCII). */
  charsSent: number;
  /** Times the send buffer passed the high-water mark and the session paused. */
  backpressurePauses: number;
}

/** Fresh traffic counters, all zero. */
export function newTrafficCounters(): TrafficCounters {
  return {
    commands: 0,
    badCommands: 0,
    unsupportedCommands: 0,
    refusedCommands: 0,
    acksSent: 0,
    framesSent: 0,
    messagesSent: 0,
    batches: 0,
    charsSent: 0,
    backpressurePauses: 0,
  };
}

/** Lifecycle state of one connection. */
export type SessionState = "connecting" | "open" | "closed";

/** A snapshot of one connection. */
export interface StreamSessionStats extends TrafficCounters {
  /** The connection's consumer id. */
  consumerId: string;
  /** Lifecycle state. */
  state: SessionState;
  /** When the upgrade was accepted, ms since epoch. */
  connectedAtMs: number;
  /** True while the send buffer is above the water mark and events are not taken. */
  paused: boolean;
  /** The socket's unsent bytes at snapshot time. */
  bufferedAmount: number;
  /** Encoded messages waiting in the session. */
  pendingMessages: number;
  /** Messages thrown away when the connection closed. */
  discardedOnClose: number;
  /** Why the connection ended; "" while it is live. */
  disconnectReason: DisconnectReason | "";
  /** The consumer's own counters (queue depth, drops by stream). */
  consumer: ConsumerStats;
}

/** A snapshot of the whole endpoint. */
export interface StreamServerStats extends TrafficCounters {
  /** Connections live now. */
  connectionsActive: number;
  /** Upgrades accepted since start. */
  connectionsAccepted: number;
  /** Upgrades refused, by reason. */
  connectionsRejected: Record<RejectReason, number>;
  /** Connections ended, by reason. */
  disconnects: Record<DisconnectReason, number>;
}

/** A record with every key of `keys` at zero. */
export function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  return out;
}
