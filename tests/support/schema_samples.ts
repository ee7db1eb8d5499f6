/**
 * Valid sample data for the schema tests (one per kind and type), shared by the
 * `schema_*_test.ts` files. Each call returns fresh objects the caller may mutate.
 *
 * @module
 */

import type {
  CanonicalEventData,
  ExecReportData,
  MergedEventData,
  OrderRequestData,
  ProviderRawData,
  WsFrameData,
} from "../../src/schema/mod.ts";
import { CanonicalEvent } from "../../src/schema/canonical_event.ts";

/** A plain event with every field at its zero value, then `fields` applied. */
export function eventData(fields: Partial<CanonicalEventData>): CanonicalEventData {
  return { ...new CanonicalEvent().clone(), ...fields };
}

/** A Binance trade. */
export function sampleTrade(fields?: Partial<CanonicalEventData>): CanonicalEventData {
  return eventData({
    kind: "trade",
    provider: "binance",
    symbol: "BTC-USDT",
    seq: 12345,
    seqFirst: 12345,
    exchangeTsMs: 1767225600123,
    recvTsMs: 1767225600125.25,
    tradeId: "12345",
    price: "87250.01000000",
    qty: "0.00100000",
    side: "sell",
    ...fields,
  });
}

/** A Binance book diff covering update ids 100..105. */
export function sampleBookUpdate(fields?: Partial<CanonicalEventData>): CanonicalEventData {
  return eventData({
    kind: "book_update",
    provider: "binance",
    symbol: "BTC-USDT",
    seq: 105,
    seqFirst: 100,
    exchangeTsMs: 1767225600200,
    recvTsMs: 1767225600201.5,
    bids: ["87250.00", "1.5", "87249.99", "0"],
    asks: ["87250.01", "0.25"],
    ...fields,
  });
}

/** An OKX book snapshot. */
export function sampleBookSnapshot(fields?: Partial<CanonicalEventData>): CanonicalEventData {
  return eventData({
    kind: "book_snapshot",
    provider: "okx",
    symbol: "ETH-USDT",
    seq: 880001,
    seqFirst: 880001,
    exchangeTsMs: 1767225600000,
    recvTsMs: 1767225600003,
    bids: ["3000.1", "2", "3000.0", "4.5"],
    asks: ["3000.2", "1", "3000.3", "7"],
    ...fields,
  });
}

/** A Kraken ticker without 24 h open (empty fields the source lacks). */
export function sampleTicker(fields?: Partial<CanonicalEventData>): CanonicalEventData {
  return eventData({
    kind: "ticker",
    provider: "kraken",
    symbol: "BTC-USD",
    seq: 0,
    seqFirst: 0,
    exchangeTsMs: 0,
    recvTsMs: 1767225600300,
    bidPx: "63000.0",
    bidQty: "1.25",
    askPx: "63000.1",
    askQty: "0.5",
    price: "63000.0",
    qty: "0.01",
    open: "",
    high: "64000.0",
    low: "62000.0",
    volume: "1234.5",
    quoteVolume: "",
    ...fields,
  });
}

/** A closed Binance 1m kline. */
export function sampleKline(fields?: Partial<CanonicalEventData>): CanonicalEventData {
  return eventData({
    kind: "kline",
    provider: "binance",
    symbol: "BTC-USDT",
    seq: 7,
    seqFirst: 7,
    exchangeTsMs: 1767225660000,
    recvTsMs: 1767225660001,
    interval: "1m",
    openTimeMs: 1767225600000,
    closeTimeMs: 1767225659999,
    open: "87000.00",
    high: "87300.00",
    low: "86900.00",
    price: "87250.01",
    volume: "12.5",
    quoteVolume: "1090000.125",
    tradeCount: 321,
    closed: true,
    ...fields,
  });
}

/** One valid sample of every market kind. */
export function sampleEvents(): CanonicalEventData[] {
  return [sampleTrade(), sampleBookUpdate(), sampleBookSnapshot(), sampleTicker(), sampleKline()];
}

/** A merged trade window with one fragment from each of two providers. */
export function sampleMerged(fields?: Partial<MergedEventData>): MergedEventData {
  return {
    mergeId: "m-1767225600000-1",
    routingVersion: 3,
    kind: "trade",
    symbol: "BTC-USDT",
    providers: ["binance", "okx"],
    missing: [],
    windowOpenMs: 1767225600125,
    windowCloseMs: 1767225610125,
    closeReason: "time",
    fragments: [
      sampleTrade(),
      sampleTrade({ provider: "okx", seq: 918273645, seqFirst: 918273645, tradeId: "918273645" }),
    ],
    ...fields,
  };
}

/** A limit buy. */
export function sampleOrder(fields?: Partial<OrderRequestData>): OrderRequestData {
  return {
    consumerId: "strat-a",
    clientOrderId: "order0001",
    action: "new",
    provider: "binance",
    symbol: "BTC-USDT",
    side: "buy",
    orderType: "limit",
    timeInForce: "GTC",
    price: "60000.00",
    qty: "0.00100000",
    createdTsMs: 1767225600000,
    traceId: "t-1",
    ...fields,
  };
}

/** A partial fill. */
export function sampleExecReport(fields?: Partial<ExecReportData>): ExecReportData {
  return {
    seq: 2,
    consumerId: "strat-a",
    provider: "okx",
    symbol: "BTC-USDT",
    clientOrderId: "cl20260101a1",
    exchangeOrderId: "735511198274002944",
    side: "buy",
    orderType: "limit",
    state: "PARTIAL",
    price: "63000",
    qty: "0.01",
    cumQty: "0.004",
    lastQty: "0.004",
    lastPx: "63000",
    cumQuote: "252",
    fee: "-0.000004",
    feeAsset: "BTC",
    exchangeTradeId: "918273700",
    reasonCode: "",
    reasonText: "",
    exchangeTsMs: 1767225601000,
    recvTsMs: 1767225601002.5,
    traceId: "",
    ...fields,
  };
}

/** A received frame. */
export function sampleFrame(): WsFrameData {
  return {
    provider: "binance",
    connId: 3,
    frameSeq: 41,
    recvTsMs: 1767225600125.25,
    text: '{"e":"trade"}',
  };
}

/** A decoded Binance trade. */
export function sampleRaw(): ProviderRawData {
  return {
    provider: "binance",
    stream: "btcusdt@trade",
    eventType: "trade",
    symbol: "BTCUSDT",
    eventTimeMs: 1767225600123,
    recvTsMs: 1767225600125.25,
    firstId: 0,
    lastId: 12345,
    tradeId: "12345",
    tradeTimeMs: 1767225600122,
    price: "87250.01000000",
    qty: "0.00100000",
    buyerMaker: true,
    bids: ["1", "2"],
    asks: ["3", "4"],
    bidPx: "",
    bidQty: "",
    askPx: "",
    askQty: "",
    open: "",
    high: "",
    low: "",
    close: "",
    volume: "",
    quoteVolume: "",
    interval: "",
    openTimeMs: 0,
    closeTimeMs: 0,
    tradeCount: 0,
    closed: false,
    body: null,
  };
}
