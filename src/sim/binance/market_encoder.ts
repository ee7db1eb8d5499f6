/**
 * Binance JSON payloads for market streams, written as template strings so the key order is
 * exactly the documented one (and encoding stays cheap). Callers pass decimal strings already
 * formatted with 8 decimals.
 *
 * @module
 */

/** `[price, qty]` decimal string pairs. */
export type LevelStrings = readonly (readonly [string, string])[];

/** `[[p,q],...]` as JSON. */
export function encodeLevels(levels: LevelStrings): string {
  let out = "[";
  for (let i = 0; i < levels.length; i++) {
    if (i > 0) out += ",";
    out += `["${levels[i][0]}","${levels[i][1]}"]`;
  }
  return out + "]";
}

/** Fields of a `trade` event. */
export interface TradeFields {
  readonly eventTimeMs: number;
  readonly symbol: string;
  readonly tradeId: number;
  readonly price: string;
  readonly qty: string;
  readonly tradeTimeMs: number;
  readonly buyerIsMaker: boolean;
}

/** `{"e":"trade","E","s","t","p","q","T","m","M"}`. */
export function encodeTrade(f: TradeFields): string {
  return `{"e":"trade","E":${f.eventTimeMs},"s":"${f.symbol}","t":${f.tradeId},"p":"${f.price}","q":"${f.qty}","T":${f.tradeTimeMs},"m":${f.buyerIsMaker},"M":true}`;
}

/** Fields of an `aggTrade` event. */
export interface AggTradeFields {
  readonly eventTimeMs: number;
  readonly symbol: string;
  readonly aggId: number;
  readonly price: string;
  readonly qty: string;
  readonly firstTradeId: number;
  readonly lastTradeId: number;
  readonly tradeTimeMs: number;
  readonly buyerIsMaker: boolean;
}

/** `{"e":"aggTrade","E","s","a","p","q","f","l","T","m","M"}`. */
export function encodeAggTrade(f: AggTradeFields): string {
  return `{"e":"aggTrade","E":${f.eventTimeMs},"s":"${f.symbol}","a":${f.aggId},"p":"${f.price}","q":"${f.qty}","f":${f.firstTradeId},"l":${f.lastTradeId},"T":${f.tradeTimeMs},"m":${f.buyerIsMaker},"M":true}`;
}

/** Fields of a `depthUpdate` event (level arrays already encoded with {@link encodeLevels}). */
export interface DepthUpdateFields {
  readonly eventTimeMs: number;
  readonly symbol: string;
  readonly firstUpdateId: number;
  readonly lastUpdateId: number;
  readonly bids: string;
  readonly asks: string;
}

/** `{"e":"depthUpdate","E","s","U","u","b","a"}`. */
export function encodeDepthUpdate(f: DepthUpdateFields): string {
  return `{"e":"depthUpdate","E":${f.eventTimeMs},"s":"${f.symbol}","U":${f.firstUpdateId},"u":${f.lastUpdateId},"b":${f.bids},"a":${f.asks}}`;
}

/**
 * `{"lastUpdateId","bids","asks"}`: partial depth stream and REST depth body alike (level
 * arrays already encoded with {@link encodeLevels}).
 */
export function encodeBookDepth(
  lastUpdateId: number,
  levels: { readonly bids: string; readonly asks: string },
): string {
  return `{"lastUpdateId":${lastUpdateId},"bids":${levels.bids},"asks":${levels.asks}}`;
}

/** Fields of a `bookTicker` event. */
export interface BookTickerFields {
  readonly updateId: number;
  readonly symbol: string;
  readonly bidPrice: string;
  readonly bidQty: string;
  readonly askPrice: string;
  readonly askQty: string;
}

/** `{"u","s","b","B","a","A"}` (no `e`, no `E`). */
export function encodeBookTicker(f: BookTickerFields): string {
  return `{"u":${f.updateId},"s":"${f.symbol}","b":"${f.bidPrice}","B":"${f.bidQty}","a":"${f.askPrice}","A":"${f.askQty}"}`;
}

/** Rolling statistics shared by ticker, miniTicker and avgPrice. */
export interface TickerFields {
  readonly eventTimeMs: number;
  readonly symbol: string;
  readonly priceChange: string;
  readonly priceChangePercent: string;
  readonly weightedAvgPrice: string;
  readonly prevClosePrice: string;
  readonly lastPrice: string;
  readonly lastQty: string;
  readonly bidPrice: string;
  readonly bidQty: string;
  readonly askPrice: string;
  readonly askQty: string;
  readonly openPrice: string;
  readonly highPrice: string;
  readonly lowPrice: string;
  readonly volume: string;
  readonly quoteVolume: string;
  readonly openTimeMs: number;
  readonly closeTimeMs: number;
  readonly firstTradeId: number;
  readonly lastTradeId: number;
  readonly tradeCount: number;
  readonly lastTradeTimeMs: number;
}

/** `24hrTicker` with the documented key order. */
export function encodeTicker(f: TickerFields): string {
  return `{"e":"24hrTicker","E":${f.eventTimeMs},"s":"${f.symbol}","p":"${f.priceChange}","P":"${f.priceChangePercent}","w":"${f.weightedAvgPrice}","x":"${f.prevClosePrice}","c":"${f.lastPrice}","Q":"${f.lastQty}","b":"${f.bidPrice}","B":"${f.bidQty}","a":"${f.askPrice}","A":"${f.askQty}","o":"${f.openPrice}","h":"${f.highPrice}","l":"${f.lowPrice}","v":"${f.volume}","q":"${f.quoteVolume}","O":${f.openTimeMs},"C":${f.closeTimeMs},"F":${f.firstTradeId},"L":${f.lastTradeId},"n":${f.tradeCount}}`;
}

/** `24hrMiniTicker`: `{"e","E","s","c","o","h","l","v","q"}`. */
export function encodeMiniTicker(f: TickerFields): string {
  return `{"e":"24hrMiniTicker","E":${f.eventTimeMs},"s":"${f.symbol}","c":"${f.lastPrice}","o":"${f.openPrice}","h":"${f.highPrice}","l":"${f.lowPrice}","v":"${f.volume}","q":"${f.quoteVolume}"}`;
}

/** `avgPrice`: `{"e","E","s","i","w","T"}`. */
export function encodeAvgPrice(f: TickerFields): string {
  return `{"e":"avgPrice","E":${f.eventTimeMs},"s":"${f.symbol}","i":"5m","w":"${f.weightedAvgPrice}","T":${f.lastTradeTimeMs}}`;
}

/** Fields of a `kline` event. */
export interface KlineFields {
  readonly eventTimeMs: number;
  readonly symbol: string;
  readonly openTimeMs: number;
  readonly closeTimeMs: number;
  readonly interval: string;
  readonly firstTradeId: number;
  readonly lastTradeId: number;
  readonly open: string;
  readonly close: string;
  readonly high: string;
  readonly low: string;
  readonly volume: string;
  readonly tradeCount: number;
  readonly closed: boolean;
  readonly quoteVolume: string;
  readonly takerBuyVolume: string;
  readonly takerBuyQuoteVolume: string;
}

/** `kline` with `k` = `{t,T,s,i,f,L,o,c,h,l,v,n,x,q,V,Q,B}`. */
export function encodeKline(f: KlineFields): string {
  return `{"e":"kline","E":${f.eventTimeMs},"s":"${f.symbol}","k":{"t":${f.openTimeMs},"T":${f.closeTimeMs},"s":"${f.symbol}","i":"${f.interval}","f":${f.firstTradeId},"L":${f.lastTradeId},"o":"${f.open}","c":"${f.close}","h":"${f.high}","l":"${f.low}","v":"${f.volume}","n":${f.tradeCount},"x":${f.closed},"q":"${f.quoteVolume}","V":"${f.takerBuyVolume}","Q":"${f.takerBuyQuoteVolume}","B":"0"}}`;
}
