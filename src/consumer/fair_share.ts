/**
 * Fair share of a stream's fan-out capacity across the consumers that read it (MISSION R-10).
 *
 * The model, precisely:
 *
 * - **Consumer budget.** Consumer `c` has its own token bucket, `rateEventsPerSec` = `r_c`
 *   (default unlimited) and `burstEvents`. Every market-data message handed to its reader costs
 *   one token; execution reports and gap markers cost nothing (they are never held back).
 * - **Stream capacity.** With `streamRateEventsPerSec` = `R` set (finite), every stream `s`
 *   (provider, symbol, kind) has a fan-out capacity: deliveries of `s` to all its consumers
 *   together. Each delivery of `s` also costs one token of `c`'s share of `s`.
 * - **Subscribed bandwidth** of `c` on `s`: `B(c,s) = min(λ_s, r_c, R)`, with `λ_s` the rate at
 *   which `s` produces events: what `c` would receive reading alone, as fast as it may. A
 *   consumer's subscribed bandwidth is the sum over its streams, capped by `r_c`.
 * - **Weights and guarantee.** A member's weight is `w_c = min(r_c, R)`; `W` is the sum over
 *   the stream's members. The stream refills at `R_eff = max(R, shareFloor * W)` tokens/s and
 *   the refill is split in proportion to weight, so each member is guaranteed
 *   `g_c = R_eff * w_c / W >= shareFloor * w_c` tokens/s, however many members there are and
 *   however greedy they are. With the default `shareFloor` 0.25, an *active* consumer receives
 *   from each stream at least `min(λ_s, 0.25 * w_c) >= 0.25 * B(c,s)`: no active consumer gets
 *   less than 25 % of its subscribed bandwidth. Active means its reader asks for the next
 *   message at least once per `1 / g_c` seconds while one is waiting (a reader slower than
 *   that is limited by itself, not by the others; what it leaves goes to them). (`R` is an operator's cap on a hot
 *   stream's fan-out; the floor overrides it when the members' combined weights need more.)
 * - **Work conserving.** Each member holds at most `max(2, streamBurstEvents * w_c / W)`
 *   credits. Refill that would overflow a full member (a slow reader, an idle one, one held
 *   back by its own budget) spills to the members still below their cap, in proportion to
 *   weight (water-filling), so capacity nobody uses goes to whoever can use it, and a greedy
 *   consumer only ever gets what the others leave.
 *
 * A member joins a stream's share the first time its consumer delivers an event of the stream
 * and leaves when the consumer closes. An idle member only raises `R_eff` and spills its share,
 * so it takes nothing from the others.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../pool/clock.ts";
import { StreamMap } from "./stream_map.ts";
import { TOKEN_EPSILON } from "./token_bucket.ts";

/** The guarantee: each member gets at least this fraction of its weight, tokens/s. */
export const SHARE_FLOOR_DEFAULT = 0.25;
/** Fewest credits a member may hold (see `StreamShare`). */
const MEMBER_CAP_MIN = 2;
/** A stream's burst (credits split across its members) unless configured. */
export const STREAM_BURST_EVENTS_DEFAULT = 64;

/** A stream as the scheduler keys it (an event clone or a stream key both fit). */
export interface StreamRef {
  /** Provider name. */
  readonly provider: string;
  /** Canonical symbol. */
  readonly symbol: string;
  /** Event kind. */
  readonly kind: string;
}

/** Options of {@linkcode FairShareScheduler}. */
export interface FairShareOptions {
  /** `R`: fan-out capacity of each stream, deliveries/s to all its consumers together (> 0). */
  streamRateEventsPerSec: number;
  /** Credits of one stream, split across members by weight (>= 1). Default 64. */
  streamBurstEvents?: number;
  /** Guaranteed fraction of each member's weight, 0 < f <= 1. Default 0.25. */
  shareFloor?: number;
  /** Time source. Default {@linkcode SYSTEM_CLOCK}. */
  clock?: Clock;
}

/** A snapshot of one stream's share. */
export interface StreamShareStats {
  /** Provider name. */
  provider: string;
  /** Canonical symbol. */
  symbol: string;
  /** Event kind. */
  kind: string;
  /** Members (consumers delivering this stream). */
  members: number;
  /** `W`, the members' combined weight. */
  totalWeight: number;
  /** `R_eff`, tokens/s refilled across the members. */
  effectiveRateEventsPerSec: number;
}

/** One consumer's share of one stream. Obtained from {@linkcode FairShareScheduler.join}. */
export class ShareMember {
  /** `w_c = min(r_c, R)`. */
  readonly weight: number;
  /** Credits now (fractional). */
  credit = 0;
  /** Most credits held. */
  cap = MEMBER_CAP_MIN;
  /** False once left (a left member refuses every take). */
  joined = true;
  /** The stream's share this member belongs to. */
  readonly share: StreamShare;

  /** Use {@linkcode FairShareScheduler.join}. */
  constructor(share: StreamShare, weight: number) {
    this.share = share;
    this.weight = weight;
  }

  /** Takes one credit when available (refilling first if short). */
  tryTake(): boolean {
    if (!this.joined) return false;
    if (this.credit + TOKEN_EPSILON < 1) {
      this.share.refill();
      if (this.credit + TOKEN_EPSILON < 1) return false;
    }
    this.credit = Math.max(0, this.credit - 1);
    return true;
  }

  /** Ms until a credit is due at this member's guaranteed rate (0 when one is available). */
  waitMs(): number {
    if (!this.joined) return Infinity;
    this.share.refill();
    if (this.credit + TOKEN_EPSILON >= 1) return 0;
    return ((1 - this.credit) / this.share.guaranteedRate(this)) * 1000;
  }
}

/** The fan-out capacity of one stream, split across its members (see the module doc). */
export class StreamShare {
  /** The stream. */
  readonly provider: string;
  /** The stream. */
  readonly symbol: string;
  /** The stream. */
  readonly kind: string;
  readonly #rateEventsPerSec: number;
  readonly #burstEvents: number;
  readonly #shareFloor: number;
  readonly #clock: Clock;
  readonly #members: ShareMember[] = [];
  #totalWeight = 0;
  #effectiveRate = 0;
  #lastMs: number;

  /** Use {@linkcode FairShareScheduler.join}. */
  constructor(stream: StreamRef, opts: Required<FairShareOptions>) {
    this.provider = stream.provider;
    this.symbol = stream.symbol;
    this.kind = stream.kind;
    this.#rateEventsPerSec = opts.streamRateEventsPerSec;
    this.#burstEvents = opts.streamBurstEvents;
    this.#shareFloor = opts.shareFloor;
    this.#clock = opts.clock;
    this.#lastMs = this.#clock.nowMs();
  }

  /** Number of members. */
  get size(): number {
    return this.#members.length;
  }

  /** Adds a member of weight `weight` (> 0), starting with a full share of credits. */
  join(weight: number): ShareMember {
    assert(weight > 0 && Number.isFinite(weight), "a member weight is finite and > 0");
    // Settle what accrued under the old membership before the split changes.
    this.refill();
    const member = new ShareMember(this, weight);
    this.#members.push(member);
    this.#reweigh();
    member.credit = member.cap;
    return member;
  }

  /** Removes a member (idempotent); its credits are forfeited. */
  leave(member: ShareMember): void {
    if (!member.joined) return;
    const i = this.#members.indexOf(member);
    assert(i >= 0, "a joined member is listed in its share");
    this.refill();
    member.joined = false;
    this.#members.splice(i, 1);
    this.#reweigh();
  }

  /** `g_c`: the member's guaranteed tokens/s. */
  guaranteedRate(member: ShareMember): number {
    return (this.#effectiveRate * member.weight) / this.#totalWeight;
  }

  /** A snapshot. */
  stats(): StreamShareStats {
    return {
      provider: this.provider,
      symbol: this.symbol,
      kind: this.kind,
      members: this.#members.length,
      totalWeight: this.#totalWeight,
      effectiveRateEventsPerSec: this.#effectiveRate,
    };
  }

  /**
   * Adds the tokens accrued since the last refill, split by weight among the members below
   * their cap; overflow spills to the others (water-filling). Each round fills at least one
   * member to its cap or hands out everything, so it ends within `members` rounds.
   */
  refill(): void {
    const now = this.#clock.nowMs();
    const elapsedMs = now - this.#lastMs;
    if (elapsedMs <= 0) return;
    this.#lastMs = now;
    let pool = (this.#effectiveRate * elapsedMs) / 1000;
    const members = this.#members;
    for (let round = 0; round < members.length && pool > 0; round++) {
      let openWeight = 0;
      for (let i = 0; i < members.length; i++) {
        if (members[i].credit < members[i].cap) openWeight += members[i].weight;
      }
      if (openWeight === 0) return; // everyone full: the rest is lost, as in any bucket
      let spill = 0;
      for (let i = 0; i < members.length; i++) {
        const m = members[i];
        if (m.credit >= m.cap) continue;
        const give = (pool * m.weight) / openWeight;
        const room = m.cap - m.credit;
        if (give >= room) {
          m.credit = m.cap;
          spill += give - room;
        } else {
          m.credit += give;
        }
      }
      pool = spill;
    }
  }

  #reweigh(): void {
    let total = 0;
    for (const m of this.#members) total += m.weight;
    this.#totalWeight = total;
    this.#effectiveRate = Math.max(this.#rateEventsPerSec, this.#shareFloor * total);
    for (const m of this.#members) {
      // At least 2: a member reading one credit at a time must not hit its cap (and spill its
      // share) merely because the refill landed just before its take.
      m.cap = Math.max(MEMBER_CAP_MIN, (this.#burstEvents * m.weight) / total);
      if (m.credit > m.cap) m.credit = m.cap;
    }
  }
}

/**
 * The per-stream shares of one consumer registry.
 *
 * @example
 * ```ts
 * const shares = new FairShareScheduler({ streamRateEventsPerSec: 1000, clock });
 * const member = shares.join(ev, 500); // consumer budget 500 events/s
 * if (member.tryTake()) deliver(ev);
 * shares.leave(member);
 * ```
 */
export class FairShareScheduler {
  /** `R`, deliveries/s per stream. */
  readonly streamRateEventsPerSec: number;
  /** The guaranteed fraction of each member's weight. */
  readonly shareFloor: number;
  readonly #opts: Required<FairShareOptions>;
  readonly #shares = new StreamMap<StreamShare>();

  /** Creates a scheduler; throws on out-of-range options. */
  constructor(opts: FairShareOptions) {
    const rate = opts.streamRateEventsPerSec;
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new RangeError(`expected a finite streamRateEventsPerSec > 0, found ${rate}`);
    }
    const burst = opts.streamBurstEvents ?? STREAM_BURST_EVENTS_DEFAULT;
    if (!(burst >= 1) || !Number.isFinite(burst)) {
      throw new RangeError(`expected a finite streamBurstEvents >= 1, found ${burst}`);
    }
    const floor = opts.shareFloor ?? SHARE_FLOOR_DEFAULT;
    if (!(floor > 0 && floor <= 1)) {
      throw new RangeError(`expected shareFloor in (0, 1], found ${floor}`);
    }
    this.streamRateEventsPerSec = rate;
    this.shareFloor = floor;
    this.#opts = {
      streamRateEventsPerSec: rate,
      streamBurstEvents: burst,
      shareFloor: floor,
      clock: opts.clock ?? SYSTEM_CLOCK,
    };
  }

  /** Number of streams with members. */
  get streams(): number {
    return this.#shares.size;
  }

  /**
   * Adds a consumer with budget `rateEventsPerSec` (> 0, `Infinity` allowed) to the stream's
   * share; its weight is `min(rateEventsPerSec, R)`.
   */
  join(stream: StreamRef, rateEventsPerSec: number): ShareMember {
    if (!(rateEventsPerSec > 0)) {
      throw new RangeError(
        `expected rateEventsPerSec > 0 (or Infinity), found ${rateEventsPerSec}`,
      );
    }
    let share = this.#shares.get(stream.provider, stream.symbol, stream.kind);
    if (share === undefined) {
      share = new StreamShare(stream, this.#opts);
      this.#shares.set(stream.provider, stream.symbol, stream.kind, share);
    }
    return share.join(Math.min(rateEventsPerSec, this.streamRateEventsPerSec));
  }

  /** Removes the member (idempotent); a stream's share goes once its last member leaves. */
  leave(member: ShareMember): void {
    const share = member.share;
    share.leave(member);
    if (share.size === 0) {
      const current = this.#shares.get(share.provider, share.symbol, share.kind);
      if (current === share) this.#shares.delete(share.provider, share.symbol, share.kind);
    }
  }

  /** Snapshots of every stream's share. */
  stats(): StreamShareStats[] {
    return [...this.#shares.values()].map((s) => s.stats());
  }
}

/** Invariant check: a failure is a bug in the scheduler, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`fair share invariant violated: ${what}`);
}
