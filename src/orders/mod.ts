/**
 * Orders: the exchange-neutral order gateway. Consumers' order requests are checked (trading
 * switch, exchange filters), journaled durably before they are sent (so no order is ever sent
 * twice, also across restarts), routed to the exchange's {@linkcode OrderVenue}, and answered
 * with canonical execution reports (ACK, PARTIAL, FILLED, CANCELLED, REJECTED, EXPIRED) that
 * are de-duplicated, ordered and reconciled with the exchange after restarts and reconnects.
 *
 * @module
 */

export * from "./order_venue.ts";
export {
  addDecimal,
  compareDecimal,
  decimalOf,
  divideDecimal,
  type ExactDecimal,
  formatDecimal,
  isMultipleOf,
  isPositive,
  isZero,
  multiplyDecimal,
  parseDecimal,
  QUOTIENT_SCALE_MAX,
  subtractDecimal,
  trimDecimal,
} from "./exact_decimal.ts";
export {
  rowIdOfVenueClientId,
  VENUE_CLIENT_ID_DIGITS,
  VENUE_CLIENT_ID_PREFIX,
  venueClientIdOf,
} from "./venue_client_id.ts";
export { checkOrderFilters, type OrderFilterOptions } from "./order_filters.ts";
export {
  type FillRecord,
  type IntentChange,
  type IntentInput,
  IntentJournal,
  type IntentJournalOptions,
  type IntentRow,
  type IntentState,
  intentStateRank,
  isTerminalIntentState,
  JOURNAL_LIST_ROWS_MAX,
  JOURNAL_MEMORY_PATH,
  OPEN_INTENT_STATES,
} from "./intent_journal.ts";
export {
  execStateOf,
  type ExecUpdatePlan,
  type ExecUpdatePlanOptions,
  planExecUpdate,
  type PlannedReport,
  updateOfStatus,
} from "./exec_update_plan.ts";
export {
  type IntentView,
  intentViewOf,
  type OrderOutcome,
  type OrderRefusalCode,
} from "./order_outcome.ts";
export {
  OrderGateway,
  type OrderGatewayOptions,
  type OrderGatewayPools,
  type OrderGatewayStats,
  ORDERS_LIST_LIMIT_DEFAULT,
  REASON_NOT_SENT_BEFORE_RESTART,
  REASON_TIMEOUT_NOT_FOUND,
  REQUEST_TIMEOUT_MS_DEFAULT,
} from "./order_gateway.ts";
export {
  VENUE_RETRY_DELAY_MS_DEFAULT,
  VENUE_RETRY_DELAY_MS_MAX_DEFAULT,
  VenueSupervisor,
  type VenueSupervisorOptions,
} from "./venue_supervisor.ts";
