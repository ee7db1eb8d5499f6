/**
 * Command handling shared by the WebSocket endpoint and the HTTP control API: turns one command
 * (text or an already parsed value) into exactly one `ack`, applying subscribe / unsubscribe to
 * the consumer. Pure apart from the consumer (and the order desk) it is given: no sockets, no
 * timers, so it is tested on its own. Order commands (`order_submit`, `order_cancel`,
 * `trading`) go to `order_commands.ts` when the caller passes its order credentials; without
 * them they answer `not_supported`.
 *
 * A malformed command is never an exception here: it becomes an error ack (with the command's
 * `req_id` when one could be read), and the caller counts it.
 *
 * @module
 */

import type { MergedMarket, MergedSpec, StreamKey, SubscriptionResult } from "../consumer/mod.ts";
import { DecodeError, decodeJson } from "../codec/mod.ts";
import {
  ACK_MESSAGE_LENGTH_MAX,
  type AckMessage,
  commandFromWire,
  type ControlCommand,
  errorAck,
  requestIdOf,
  WireFormatError,
} from "../schema/mod.ts";
import { applyOrderCommand, type OrderCaller } from "./order_commands.ts";
import type { OrderCommandOutcome } from "./order_control.ts";

/** Longest command text the endpoint parses by default, in characters (64 KiB). */
export const COMMAND_CHARS_MAX_DEFAULT = 65_536;

/**
 * Error codes the server adds to the wire format's own (`not_an_object`, `bad_version`,
 * `unknown_type`, `missing_field`, `invalid_field`, `unknown_field`).
 */
export type ServerErrorCode =
  /** The frame or body is not valid JSON. */
  | "invalid_json"
  /** A binary WebSocket frame (commands are text). */
  | "binary_frame"
  /** The command text is longer than the bound. */
  | "message_too_large"
  /** A valid command this version of the server does not implement yet. */
  | "not_supported"
  /** The routing table refused the change (subscription limit, consumer closed). */
  | "routing_refused"
  /** HTTP: no live consumer has the id in the path. */
  | "unknown_consumer"
  /** HTTP: the request has no body. */
  | "missing_body"
  /** HTTP: the request body is larger than the bound. */
  | "body_too_large"
  /** An order command from a caller without the consumer's trading token. */
  | "unauthorized"
  /** An order command the caller's token does not allow (enabling trading, another's switch). */
  | "forbidden"
  /** The order desk failed unexpectedly (the gateway log has the details). */
  | "internal_error";

/** What a command handler needs of a consumer (the in-process `Consumer` fulfils it). */
export interface CommandTarget {
  /** Adds one subscription. */
  subscribe(key: StreamKey): SubscriptionResult;
  /** Removes one subscription. */
  unsubscribe(key: StreamKey): SubscriptionResult;
  /** True when merged subscriptions are available; absent or false: they answer not_supported. */
  readonly mergedEnabled?: boolean;
  /** Adds (or replaces) the merged subscription of a market. */
  mergedSubscribe?(spec: MergedSpec): SubscriptionResult;
  /** Removes the merged subscription of a market. */
  mergedUnsubscribe?(market: MergedMarket): SubscriptionResult;
}

/**
 * How a command ended, for counting:
 * - `applied`: valid and carried out (`ack.ok` is true);
 * - `rejected`: unreadable or invalid (bad JSON, schema violation, binary, too large);
 * - `unsupported`: valid, but a command type this server does not implement yet;
 * - `refused`: valid, but refused: by the routing table, the order desk, or for lack of a
 *   credential (`unauthorized`, `forbidden`).
 */
export type CommandStatus = "applied" | "rejected" | "unsupported" | "refused";

/** The outcome of one command: its status and the ack to send. */
export interface CommandOutcome {
  /** How it ended. */
  status: CommandStatus;
  /** The command's type when it could be read, else "". */
  commandType: ControlCommand["type"] | "";
  /** The answer (exactly one per command). */
  ack: AckMessage;
  /** Order commands handled with order credentials: the outcome to count. */
  orderOutcome?: OrderCommandOutcome;
}

/** Options of {@linkcode applyCommand} and {@linkcode handleCommandValue}. */
export interface ApplyCommandOptions {
  /**
   * Who sends order commands, with the order plane; absent: `order_submit`, `order_cancel` and
   * `trading` answer `not_supported`.
   */
  orders?: OrderCaller;
}

/** Options of {@linkcode handleCommandText}. */
export interface HandleCommandTextOptions extends ApplyCommandOptions {
  /** Longest text parsed, in characters. Default {@linkcode COMMAND_CHARS_MAX_DEFAULT}. */
  textCharsMax?: number;
}

/**
 * Parses one command text (a WebSocket text frame) and applies it to `target`.
 *
 * @example
 * ```ts
 * const out = handleCommandText(
 *   '{"v":1,"type":"subscribe","req_id":"r1","provider":"binance","symbol":"BTC-USDT","kind":"trade"}',
 *   consumer,
 * );
 * out.ack; // { type: "ack", reqId: "r1", ok: true, routingVersion: 2 }
 * ```
 */
export function handleCommandText(
  text: string,
  target: CommandTarget,
  opts?: HandleCommandTextOptions,
): CommandOutcome {
  const textCharsMax = opts?.textCharsMax ?? COMMAND_CHARS_MAX_DEFAULT;
  if (text.length > textCharsMax) {
    return rejected("", {
      code: "message_too_large",
      message: `expected a command of at most ${textCharsMax} characters, found ${text.length}`,
    });
  }
  let raw: unknown;
  try {
    raw = decodeJson(text);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return rejected("", { code: "invalid_json", message: err.reason });
  }
  return handleCommandValue(raw, target, opts);
}

/** Validates an already parsed command (strictly, per `docs/schema.md`) and applies it. */
export function handleCommandValue(
  raw: unknown,
  target: CommandTarget,
  opts?: ApplyCommandOptions,
): CommandOutcome {
  let cmd: ControlCommand;
  try {
    cmd = commandFromWire(raw);
  } catch (err) {
    if (!(err instanceof WireFormatError)) throw err;
    return rejected(requestIdOf(raw), err);
  }
  return applyCommand(cmd, target, opts);
}

/** The ack of a binary WebSocket frame (commands are JSON text). */
export function binaryFrameOutcome(byteLength: number): CommandOutcome {
  return rejected("", {
    code: "binary_frame",
    message:
      `expected a text frame holding a JSON command, found a binary frame of ${byteLength} bytes`,
  });
}

/** Applies a valid command to `target`; one ack whatever happens. */
export function applyCommand(
  cmd: ControlCommand,
  target: CommandTarget,
  opts?: ApplyCommandOptions,
): CommandOutcome {
  switch (cmd.type) {
    case "subscribe":
    case "unsubscribe": {
      const key: StreamKey = { provider: cmd.provider, symbol: cmd.symbol, kind: cmd.kind };
      const result = cmd.type === "subscribe" ? target.subscribe(key) : target.unsubscribe(key);
      return routingOutcome(cmd.type, cmd.reqId, result);
    }
    case "merged_subscribe":
    case "merged_unsubscribe": {
      if (
        target.mergedEnabled !== true || target.mergedSubscribe === undefined ||
        target.mergedUnsubscribe === undefined
      ) {
        return unsupported(cmd.type, cmd.reqId);
      }
      const result = cmd.type === "merged_subscribe"
        ? target.mergedSubscribe({
          symbol: cmd.symbol,
          kind: cmd.kind,
          providers: cmd.providers,
          windowMs: cmd.windowMs,
          maxEvents: cmd.maxEvents,
          partialPolicy: cmd.partialPolicy,
        })
        : target.mergedUnsubscribe({
          symbol: cmd.symbol,
          kind: cmd.kind,
          providers: cmd.providers,
        });
      return routingOutcome(cmd.type, cmd.reqId, result);
    }
    case "order_submit":
    case "order_cancel":
    case "trading":
      if (opts?.orders === undefined) return unsupported(cmd.type, cmd.reqId);
      return applyOrderCommand(cmd, opts.orders);
  }
}

/** The ack of a routing change: ok with the version, or `routing_refused`. */
function routingOutcome(
  type: ControlCommand["type"],
  reqId: string,
  result: SubscriptionResult,
): CommandOutcome {
  if (result.ok) {
    return {
      status: "applied",
      commandType: type,
      ack: { type: "ack", reqId, ok: true, routingVersion: result.version },
    };
  }
  return {
    status: "refused",
    commandType: type,
    ack: errorAck(reqId, { code: "routing_refused", message: clampMessage(result.error) }),
  };
}

function unsupported(type: ControlCommand["type"], reqId: string): CommandOutcome {
  return {
    status: "unsupported",
    commandType: type,
    ack: errorAck(reqId, {
      code: "not_supported",
      message: `expected subscribe or unsubscribe, found ${type}, which is not supported yet`,
    }),
  };
}

/** An error message cut to what an ack may carry (1..1024 characters). */
export function clampMessage(message: string): string {
  if (message.length === 0) return "unknown error";
  if (message.length <= ACK_MESSAGE_LENGTH_MAX) return message;
  return message.slice(0, ACK_MESSAGE_LENGTH_MAX - 3) + "...";
}

function rejected(reqId: string, error: { code: string; message: string }): CommandOutcome {
  return {
    status: "rejected",
    commandType: "",
    ack: errorAck(reqId, { code: error.code, message: clampMessage(error.message) }),
  };
}
