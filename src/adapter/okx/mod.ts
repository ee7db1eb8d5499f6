/**
 * OKX v5 public market-data adapter (trades, books, tickers; book snapshots from the WS push or
 * the §4.4 REST bootstrap).
 *
 * @module
 */

export {
  OKX_ARGS_PER_REQUEST_MAX,
  OKX_CHANNELS_DEFAULT,
  OKX_INSTRUMENTS_ATTEMPTS_MAX,
  OKX_LIVE_ENDPOINTS,
  OKX_PING_AFTER_MS_DEFAULT,
  OKX_PONG_TIMEOUT_MS_DEFAULT,
  OkxAdapter,
  type OkxAdapterEvent,
  type OkxAdapterOptions,
  type OkxAdapterStats,
  type OkxBookView,
  type OkxChannel,
  type OkxRestStats,
} from "./okx_adapter.ts";
export {
  type FetchOkxSnapshot,
  OKX_BOOK_LEVELS_MAX,
  OKX_BOOTSTRAP_BUFFER_MAX,
  OKX_BOOTSTRAP_WAIT_MS_DEFAULT,
  OKX_REST_RETRY_DELAY_MS_DEFAULT,
  OKX_SNAPSHOT_BEHIND_ATTEMPTS_MAX,
  OKX_SNAPSHOT_TIMEOUT_MS_DEFAULT,
  OkxBookAssembler,
  type OkxBookAssemblerOptions,
  type OkxBookBootstrap,
  type OkxBookData,
  type OkxBookStats,
  type OkxSnapshotForBootstrap,
} from "./okx_book_assembler.ts";
export {
  OKX_BOOK_REQUESTS_IN_FLIGHT_MAX,
  OKX_RATE_LIMIT_BLOCK_MS_DEFAULT,
  OkxBookRest,
  type OkxBookRestOptions,
  type OkxRestBook,
  OkxRestError,
} from "./okx_book_rest.ts";
export {
  crc32Ascii,
  OKX_CHECKSUM_LEVELS,
  okxBookChecksum,
  okxChecksumText,
} from "./okx_checksum.ts";
export { normalizeOkxTicker, normalizeOkxTrade, type OkxNormalizeSkip } from "./okx_normalize.ts";
export { fetchOkxInstruments, type OkxInstrument } from "./okx_rest.ts";
export {
  type OkxCredentials,
  okxCredentialsFromEnv,
  OkxOrderVenue,
  type OkxOrderVenueOptions,
  type OkxVenueLogger,
} from "./orders/mod.ts";
