/**
 * Prices and quantities of the order benchmark's orders, exact on the instruments' filters.
 * Every simulator lists the shared {@linkcode DEFAULT_SYMBOL_SPECS} (same tick and step on all
 * three venues; minimum quantity = one step; minimum notional from the spec), so the bench
 * rounds with those. Arithmetic is on bigint atoms (10^-8), never binary floats: the gateway
 * compares prices with the tick on their digits.
 *
 * @module
 */

import { DEFAULT_SYMBOL_SPECS, type SymbolSpec } from "../../src/sim/market/mod.ts";

/** Decimals of an atom. */
const ATOM_DECIMALS = 8;
/** Atoms in one unit. */
const ATOMS_PER_UNIT = 10n ** BigInt(ATOM_DECIMALS);
/** Basis points in one unit. */
const BPS_PER_UNIT = 10_000n;

/** Parses a plain non-negative decimal string (`"87250.01000000"`) into atoms; throws otherwise. */
export function decimalToAtoms(text: string): bigint {
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (match === null) throw new RangeError(`expected a plain decimal string, found "${text}"`);
  const fraction = match[2] ?? "";
  if (fraction.length > ATOM_DECIMALS && /[1-9]/.test(fraction.slice(ATOM_DECIMALS))) {
    throw new RangeError(`expected at most ${ATOM_DECIMALS} decimals, found "${text}"`);
  }
  const padded = fraction.slice(0, ATOM_DECIMALS).padEnd(ATOM_DECIMALS, "0");
  return BigInt(match[1]) * ATOMS_PER_UNIT + BigInt(padded);
}

/** Formats atoms with exactly `decimals` decimals (`decimals` ≤ 8; the value must fit). */
export function atomsToDecimal(atoms: bigint, decimals: number): string {
  if (atoms < 0n) throw new RangeError(`expected non-negative atoms, found ${atoms}`);
  const whole = atoms / ATOMS_PER_UNIT;
  const fraction = (atoms % ATOMS_PER_UNIT).toString().padStart(ATOM_DECIMALS, "0");
  if (/[1-9]/.test(fraction.slice(decimals))) {
    throw new RangeError(
      `expected a value with at most ${decimals} decimals, found ${atoms} atoms`,
    );
  }
  return decimals === 0 ? whole.toString() : `${whole}.${fraction.slice(0, decimals)}`;
}

function decimalsOf(text: string): number {
  const dot = text.indexOf(".");
  return dot === -1 ? 0 : text.length - dot - 1;
}

function floorTo(value: bigint, unit: bigint): bigint {
  return (value / unit) * unit;
}

function ceilTo(value: bigint, unit: bigint): bigint {
  return ((value + unit - 1n) / unit) * unit;
}

/** One order's price and quantity, as decimal strings on the instrument's tick and step. */
export interface PricedOrder {
  price: string;
  qty: string;
}

/** Options of {@linkcode InstrumentPricer.price}. */
export interface PriceOptions {
  side: "buy" | "sell";
  /** Best bid and ask now, decimal strings as `/v1/books` gives them. */
  bestBid: string;
  bestAsk: string;
  /**
   * `passive`: a limit `awayBps` behind the same-side best price (rests, never trades);
   * `marketable`: a limit `awayBps` through the opposite best price (crosses the book).
   */
  mode: "passive" | "marketable";
  awayBps: number;
  /** Target order value in the quote asset (raised to the instrument's minimum notional). */
  notionalQuote: string;
}

/** Rounds one instrument's orders onto its tick, step, minimum quantity and notional. */
export class InstrumentPricer {
  /** Canonical symbol. */
  readonly symbol: string;
  readonly #tick: bigint;
  readonly #step: bigint;
  readonly #minNotional: bigint;
  readonly #priceDecimals: number;
  readonly #qtyDecimals: number;

  constructor(spec: SymbolSpec) {
    this.symbol = `${spec.base}-${spec.quote}`;
    this.#tick = decimalToAtoms(spec.tickSize);
    this.#step = decimalToAtoms(spec.stepSize);
    this.#minNotional = decimalToAtoms(spec.minNotional);
    this.#priceDecimals = decimalsOf(spec.tickSize);
    this.#qtyDecimals = decimalsOf(spec.stepSize);
    if (this.#tick <= 0n || this.#step <= 0n) {
      throw new RangeError(`${this.symbol}: expected tick and step > 0, found ${spec.tickSize}`);
    }
  }

  /** A price on the tick and a quantity on the step whose notional clears the minimum. */
  price(opts: PriceOptions): PricedOrder {
    const away = BigInt(Math.round(opts.awayBps));
    const buy = opts.side === "buy";
    // Passive: behind our own side's best; marketable: through the other side's best.
    const reference = decimalToAtoms(
      (opts.mode === "passive") === buy ? opts.bestBid : opts.bestAsk,
    );
    const lower = (opts.mode === "passive") === buy;
    const shifted = lower
      ? reference * (BPS_PER_UNIT - away) / BPS_PER_UNIT
      : ceilDiv(reference * (BPS_PER_UNIT + away), BPS_PER_UNIT);
    // Round away from the market for passive orders and through it for marketable ones, so
    // rounding never turns one kind into the other.
    const priceAtoms = lower ? floorTo(shifted, this.#tick) : ceilTo(shifted, this.#tick);
    if (priceAtoms <= 0n) {
      throw new RangeError(`${this.symbol}: expected a positive price, found ${priceAtoms} atoms`);
    }
    const target = decimalToAtoms(opts.notionalQuote);
    const notional = target > this.#minNotional ? target : this.#minNotional;
    // qty = notional / price, in atoms: notional * 10^8 / price; rounded up onto the step.
    let qtyAtoms = ceilTo(ceilDiv(notional * ATOMS_PER_UNIT, priceAtoms), this.#step);
    if (qtyAtoms < this.#step) qtyAtoms = this.#step;
    return {
      price: atomsToDecimal(priceAtoms, this.#priceDecimals),
      qty: atomsToDecimal(qtyAtoms, this.#qtyDecimals),
    };
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** The pricer of each simulator instrument, by canonical symbol. */
export function simInstrumentPricers(): Map<string, InstrumentPricer> {
  const pricers = new Map<string, InstrumentPricer>();
  for (const spec of DEFAULT_SYMBOL_SPECS) {
    const pricer = new InstrumentPricer(spec);
    pricers.set(pricer.symbol, pricer);
  }
  return pricers;
}
