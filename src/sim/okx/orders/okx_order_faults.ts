/**
 * Fault knobs of the OKX simulator's order side, each armed for a number of occurrences:
 * a fill pushed twice (same fill, later `uTime`), the `orders` push sent before the trading
 * ack, the ack not sent at all (clients time out), and a market order whose final `filled`
 * push carries `fillSz:"0"` and no `tradeId` (protocol notes §6.3 quirks, §8 checklist).
 *
 * @module
 */

/** Which fault. */
export type OkxOrderFaultKind =
  | "duplicate_push"
  | "push_before_ack"
  | "drop_ack"
  | "market_zero_fill";

/** Armed counts; reach it as `sim.orders.faults`. */
export class OkxOrderFaults {
  readonly #armed = new Map<OkxOrderFaultKind, number>();

  /** Arms `kind` for the next `count` occurrences (adds to what is armed). */
  arm(kind: OkxOrderFaultKind, count = 1): void {
    if (!(Number.isInteger(count) && count >= 1)) {
      throw new RangeError(`count: expected a positive integer, found ${count}`);
    }
    this.#armed.set(kind, (this.#armed.get(kind) ?? 0) + count);
  }

  /** Next fill push goes out twice (the copy with `uTime` one ms later). */
  duplicatePush(count = 1): void {
    this.arm("duplicate_push", count);
  }

  /** The next trading op's pushes go out before its ack. */
  pushBeforeAck(count = 1): void {
    this.arm("push_before_ack", count);
  }

  /** The next trading op gets no ack (the op itself takes effect). */
  dropAck(count = 1): void {
    this.arm("drop_ack", count);
  }

  /** The next market order's fills are pushed as `partially_filled`, then `filled` with `fillSz:"0"`. */
  marketZeroFill(count = 1): void {
    this.arm("market_zero_fill", count);
  }

  /** Armed count of `kind`. */
  armed(kind: OkxOrderFaultKind): number {
    return this.#armed.get(kind) ?? 0;
  }

  /** Consumes one occurrence of `kind`; true when it was armed. */
  take(kind: OkxOrderFaultKind): boolean {
    const left = this.#armed.get(kind) ?? 0;
    if (left === 0) return false;
    this.#armed.set(kind, left - 1);
    return true;
  }

  /** Disarms everything. */
  clear(): void {
    this.#armed.clear();
  }
}
