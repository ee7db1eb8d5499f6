/**
 * `GET /api/v3/exchangeInfo` bodies with the documented keys, in the documented order.
 *
 * @module
 */

import { formatAtoms, type MarketSymbol, parseDecimalAtoms } from "../market/mod.ts";

/** What exchangeInfo says about one symbol (decimal strings with 8 decimals). */
export interface ExchangeSymbol {
  /** `BTCUSDT`. */
  readonly symbol: string;
  /** `BTC`. */
  readonly baseAsset: string;
  /** `USDT`. */
  readonly quoteAsset: string;
  /** PRICE_FILTER values. */
  readonly minPrice: string;
  readonly maxPrice: string;
  readonly tickSize: string;
  /** LOT_SIZE values. */
  readonly minQty: string;
  readonly maxQty: string;
  readonly stepSize: string;
  /** NOTIONAL values. */
  readonly minNotional: string;
  readonly maxNotional: string;
}

/** The exchangeInfo entry of a generated symbol (filters from its spec). */
export function exchangeSymbolOf(symbol: MarketSymbol): ExchangeSymbol {
  const spec = symbol.spec;
  return {
    symbol: symbol.base + symbol.quote,
    baseAsset: symbol.base,
    quoteAsset: symbol.quote,
    minPrice: formatAtoms(symbol.tickAtoms),
    maxPrice: formatAtoms(parseDecimalAtoms(spec.maxPrice)),
    tickSize: formatAtoms(symbol.tickAtoms),
    minQty: formatAtoms(symbol.stepAtoms),
    maxQty: formatAtoms(parseDecimalAtoms(spec.maxQty)),
    stepSize: formatAtoms(symbol.stepAtoms),
    minNotional: formatAtoms(parseDecimalAtoms(spec.minNotional)),
    maxNotional: "9000000.00000000",
  };
}

/** Rate limits the simulator announces (REQUEST_WEIGHT uses the configured limit). */
function rateLimits(weightLimit: number): unknown[] {
  return [
    { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: weightLimit },
    { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 50 },
    { rateLimitType: "ORDERS", interval: "DAY", intervalNum: 1, limit: 160000 },
    { rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: 300000 },
  ];
}

function symbolEntry(s: ExchangeSymbol): unknown {
  return {
    symbol: s.symbol,
    status: "TRADING",
    baseAsset: s.baseAsset,
    baseAssetPrecision: 8,
    quoteAsset: s.quoteAsset,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: [
      "LIMIT",
      "LIMIT_MAKER",
      "MARKET",
      "STOP_LOSS",
      "STOP_LOSS_LIMIT",
      "TAKE_PROFIT",
      "TAKE_PROFIT_LIMIT",
    ],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    opoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    amendAllowed: true,
    pegInstructionsAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: true,
    filters: [
      {
        filterType: "PRICE_FILTER",
        minPrice: s.minPrice,
        maxPrice: s.maxPrice,
        tickSize: s.tickSize,
      },
      { filterType: "LOT_SIZE", minQty: s.minQty, maxQty: s.maxQty, stepSize: s.stepSize },
      {
        filterType: "NOTIONAL",
        minNotional: s.minNotional,
        applyMinToMarket: true,
        maxNotional: s.maxNotional,
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
      {
        filterType: "MARKET_LOT_SIZE",
        minQty: "0.00000000",
        maxQty: s.maxQty,
        stepSize: "0.00000000",
      },
      { filterType: "MAX_NUM_ORDERS", maxNumOrders: 200 },
    ],
    permissions: [],
    permissionSets: [["SPOT", "MARGIN"]],
    defaultSelfTradePreventionMode: "EXPIRE_MAKER",
    allowedSelfTradePreventionModes: [
      "EXPIRE_TAKER",
      "EXPIRE_MAKER",
      "EXPIRE_BOTH",
      "DECREMENT",
      "TRANSFER",
      "NONE",
    ],
  };
}

/** The whole body as JSON text. */
export function encodeExchangeInfo(
  symbols: readonly ExchangeSymbol[],
  options: { serverTimeMs: number; weightLimit: number },
): string {
  return JSON.stringify({
    timezone: "UTC",
    serverTime: options.serverTimeMs,
    rateLimits: rateLimits(options.weightLimit),
    exchangeFilters: [],
    symbols: symbols.map(symbolEntry),
  });
}
