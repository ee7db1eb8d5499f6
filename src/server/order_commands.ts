/**
 * Order commands (`order_submit`, `order_cancel`, `trading`) on either surface: checks who may
 * send them, hands them to the {@linkcode OrderDesk}, and turns the desk's answer into one
 * `ack`. Pure apart from the desk: the caller counts the outcome and sends the ack.
 *
 * Who may do what:
 *
 * | caller | submit / cancel | trading off (own) | trading on, or another consumer's |
 * | --- | --- | --- | --- |
 * | no token | `unauthorized` | `unauthorized` | `unauthorized` |
 * | a token that is not valid here | `unauthorized` | `unauthorized` | `unauthorized` |
 * | the consumer's own token | ok | ok | `forbidden` |
 * | the admin token (HTTP only) | `forbidden` | ok | ok |
 *
 * @module
 */

import { encodeJson } from "../codec/mod.ts";
import {
  ACK_MESSAGE_LENGTH_MAX,
  type AckMessage,
  errorAck,
  type OrderCancelCommand,
  type OrderSubmitCommand,
  type TradingCommand,
} from "../schema/mod.ts";
import { newTraceId } from "../telemetry/trace_id.ts";
import type { CommandOutcome } from "./command_handler.ts";
import type { TokenRole } from "./consumer_auth.ts";
import {
  type OrderCommandOutcome,
  type OrderCommandSurface,
  type OrderControl,
  outcomeOfCode,
} from "./order_control.ts";
import { ORDER_CODES, type OrderOutcome } from "./order_desk.ts";

/** An order command: what the order plane acts on. */
export type OrderCommand = OrderSubmitCommand | OrderCancelCommand | TradingCommand;

/** Who sends an order command, and through what. */
export interface OrderCaller {
  /** The order plane (its desk may be absent: `not_supported`). */
  control: OrderControl;
  /**
   * The consumer the command acts for: the connection's id (WebSocket) or the id in the path
   * (HTTP). Orders go into this consumer's namespace.
   */
  consumerId: string;
  /** What the caller's credential proves for `consumerId`. */
  role: TokenRole;
  /** Where the command came in (wording of the refusals). */
  surface: OrderCommandSurface;
}

/** An order command's outcome: the ack, plus the counted order outcome. */
export interface OrderCommandResult extends CommandOutcome {
  /** How it ended, for `switchyard_order_commands_total`. */
  orderOutcome: OrderCommandOutcome;
}

/** Applies an order command for `caller`; one ack whatever happens (desk exceptions included). */
export function applyOrderCommand(cmd: OrderCommand, caller: OrderCaller): OrderCommandResult {
  const desk = caller.control.desk;
  if (desk === undefined) {
    return refusal(cmd, "unsupported", "unavailable", {
      code: ORDER_CODES.notSupported,
      message:
        `expected an order gateway behind ${cmd.type}, found none configured on this gateway`,
    });
  }
  const denied = authorize(cmd, caller);
  if (denied !== null) return denied;
  let answer: OrderOutcome;
  try {
    switch (cmd.type) {
      case "order_submit":
        answer = desk.submit(cmd, { consumerId: caller.consumerId, traceId: newTraceId() });
        break;
      case "order_cancel":
        answer = desk.cancel(cmd, { consumerId: caller.consumerId, traceId: newTraceId() });
        break;
      case "trading":
        desk.setTrading(cmd.consumerId, cmd.enabled);
        answer = { ok: true };
        break;
    }
  } catch (err) {
    caller.control.deskFailed(err);
    return refusal(cmd, "refused", "unavailable", {
      code: ORDER_CODES.internalError,
      message: `expected the order gateway to answer ${cmd.type}, found an internal error; ` +
        "see the gateway log (the command may be retried with the same client_order_id)",
    });
  }
  if (answer.ok) {
    const ack: AckMessage = { type: "ack", reqId: cmd.reqId, ok: true };
    return { status: "applied", commandType: cmd.type, ack, orderOutcome: "ok" };
  }
  let message = answer.message;
  if (answer.existing !== undefined) {
    // The ack has no field for it: a compact copy of the order already under that id.
    message += `; existing order: ${encodeJson(answer.existing)}`;
  }
  return refusal(cmd, "refused", outcomeOfCode(answer.code), { code: answer.code, message });
}

/** Null when `caller` may send `cmd`, else the refusal. */
function authorize(cmd: OrderCommand, caller: OrderCaller): OrderCommandResult | null {
  const id = caller.consumerId;
  if (caller.role === "none" || caller.role === "invalid") {
    return refusal(cmd, "refused", "unauthorized", {
      code: ORDER_CODES.unauthorized,
      message: unauthorizedMessage(caller),
    });
  }
  if (cmd.type !== "trading") {
    if (caller.role === "owner") return null;
    return refusal(cmd, "refused", "forbidden", {
      code: ORDER_CODES.forbidden,
      message:
        `expected ${cmd.type} with the trading token of consumer "${id}", found the admin token, which may not trade for a consumer`,
    });
  }
  if (caller.role === "admin") return null;
  if (cmd.consumerId !== id) {
    return refusal(cmd, "refused", "forbidden", {
      code: ORDER_CODES.forbidden,
      message:
        `expected consumer_id "${id}" (a consumer may switch only its own trading), found "${cmd.consumerId}"; another consumer's switch needs the admin token (HTTP PUT /v1/trading/{id})`,
    });
  }
  if (cmd.enabled) {
    return refusal(cmd, "refused", "forbidden", {
      code: ORDER_CODES.forbidden,
      message:
        `expected enabled false (a consumer may only disable its own trading), found true; enabling needs the admin token (HTTP PUT /v1/trading/${id})`,
    });
  }
  return null;
}

/** Why a caller without a valid credential is refused (no secret in it). */
export function unauthorizedMessage(
  caller: Pick<OrderCaller, "consumerId" | "role" | "surface">,
): string {
  const id = caller.consumerId;
  if (caller.surface === "ws") {
    return `expected a consumer authenticated with its trading token (connect to /v1/stream?consumer=<id> with Authorization: Bearer <token> or &token=<token>), found consumer "${id}" connected without one`;
  }
  if (caller.role === "none") {
    return `expected Authorization: Bearer <token> with the trading token of consumer "${id}", found no Authorization header`;
  }
  return `expected Authorization: Bearer <token> with a token valid for consumer "${id}", found a credential that is not`;
}

function refusal(
  cmd: OrderCommand,
  status: CommandOutcome["status"],
  orderOutcome: OrderCommandOutcome,
  error: { code: string; message: string },
): OrderCommandResult {
  return {
    status,
    commandType: cmd.type,
    ack: errorAck(cmd.reqId, { code: error.code, message: clamp(error.message) }),
    orderOutcome,
  };
}

/** A message cut to what an ack may carry (as `clampMessage` of the command handler). */
function clamp(message: string): string {
  if (message.length === 0) return "unknown error";
  if (message.length <= ACK_MESSAGE_LENGTH_MAX) return message;
  return message.slice(0, ACK_MESSAGE_LENGTH_MAX - 3) + "...";
}
