/**
 * The canonical schema: the six pooled hot-path types, exact-value checks, and the
 * versioned wire format that consumers in any language read (documented in `docs/schema.md`,
 * with JSON Schema files in `docs/schema/`).
 *
 * Pooled objects implement `Poolable`: `reset()` zeroes every field, `poison()` writes sentinels
 * in debug mode, `clone()` returns a plain heap copy that the receiver owns and never releases,
 * `copyFrom()` fills a pooled object from plain data. Each type has a `validateXxx()` returning
 * null or a message saying what was expected and what was found.
 *
 * @module
 */

export {
  type EventKind,
  isMarketEventKind,
  MARKET_EVENT_KINDS,
  type MarketEventKind,
  SCHEMA_VERSION,
  type Side,
} from "./event_kind.ts";
export {
  isCanonicalSymbol,
  isDecimalOrEmpty,
  isDecimalString,
  isKlineInterval,
  isPositiveDecimalString,
  isProviderName,
  isSequenceNumber,
  isTimestampMs,
  isZeroDecimal,
} from "./exact_values.ts";
export { isPoisoned, POISON_NUMBER, POISON_STRING } from "./poison.ts";

export { validateWsFrame, WsFrame, type WsFrameData } from "./ws_frame.ts";
export {
  ProviderRaw,
  type ProviderRawData,
  type ProviderRawLike,
  type ProviderRawScalars,
  validateProviderRaw,
} from "./provider_raw.ts";
export {
  CanonicalEvent,
  type CanonicalEventData,
  type CanonicalEventLike,
  type CanonicalEventScalars,
  cloneCanonicalEventData,
  copyArrayInto,
  LEVELS_RETAINED_MAX,
  validateCanonicalEvent,
} from "./canonical_event.ts";
export {
  cloneMergedEventData,
  isMergeId,
  MERGE_ID_LENGTH_MAX,
  type MergeCloseReason,
  MergedEvent,
  type MergedEventData,
  validateMergedEvent,
} from "./merged_event.ts";
export {
  CLIENT_ORDER_ID_LENGTH_MAX,
  CLIENT_ORDER_ID_RULE,
  CONSUMER_ID_LENGTH_MAX,
  describeClientOrderIdError,
  isClientOrderId,
  isConsumerId,
  type OrderAction,
  OrderRequest,
  type OrderRequestData,
  type OrderType,
  type TimeInForce,
  validateOrderRequest,
} from "./order_request.ts";
export {
  EXEC_STATES,
  ExecReport,
  type ExecReportData,
  type ExecState,
  isExecState,
  isTerminalExecState,
  validateExecReport,
} from "./exec_report.ts";

export {
  createSchemaPools,
  DEFAULT_POOL_CAPACITIES,
  SCHEMA_POOL_NAMES,
  type SchemaPoolCapacities,
  type SchemaPools,
} from "./schema_pools.ts";

export { type WireErrorCode, WireFormatError } from "./wire_error.ts";
export {
  BOOK_LEVELS_MAX,
  eventFromWire,
  type EventFromWireOptions,
  eventId,
  eventToWire,
  type WireBookEvent,
  type WireEvent,
  type WireEventHeader,
  type WireKlineEvent,
  type WireLevel,
  type WireTickerEvent,
  type WireTradeEvent,
} from "./wire_event.ts";
export {
  MERGE_EVENTS_MAX,
  MERGE_PROVIDERS_MAX,
  mergedFromWire,
  mergedToWire,
  type WireMerged,
} from "./wire_merged.ts";
export { execReportFromWire, execReportToWire, type WireExecReport } from "./wire_exec_report.ts";
export {
  ACK_MESSAGE_LENGTH_MAX,
  type AckError,
  type AckMessage,
  COMMAND_TYPES,
  commandFromWire,
  CONTROL_TYPES,
  type ControlCommand,
  controlFromWire,
  type ControlMessage,
  controlToWire,
  errorAck,
  type ExecResumeMessage,
  type GapMessage,
  MERGE_EVENTS_DEFAULT,
  MERGE_WINDOW_MS_DEFAULT,
  MERGE_WINDOW_MS_MAX,
  type MergedSubscribeCommand,
  type MergedUnsubscribeCommand,
  type OrderCancelCommand,
  orderRequestFromCommand,
  type OrderRequestFromCommandOptions,
  type OrderSubmitCommand,
  type PartialPolicy,
  requestIdOf,
  type SubscribeCommand,
  type TradingCommand,
  type WireAck,
  type WireControl,
  type WireExecResume,
  type WireGap,
  type WireMergedSubscribe,
  type WireMergedUnsubscribe,
  type WireOrderCancel,
  type WireOrderSubmit,
  type WireSubscribe,
  type WireTrading,
} from "./wire_control.ts";
export { MESSAGE_TYPES, messageFromWire, type WireMessageData } from "./wire_message.ts";
