/**
 * VenueSupervisor: keeps trying to start an exchange's {@linkcode OrderVenue} until it is up.
 *
 * A venue whose `start()` fails (login refused, token or nonce rejected, instruments not
 * loaded, network down) closes itself and cannot be started again. Without a supervisor that
 * exchange could not trade until the gateway restarted. The supervisor builds a fresh venue from
 * its factory after a backoff (doubling from `retryDelayMs` up to `retryDelayMaxMs`), as often
 * as needed, and tells the listener `onResynced()` once one is up, so the gateway reconciles
 * what happened meanwhile. Requests while no venue is up fail with
 * {@linkcode VenueUnavailableError} and send nothing.
 *
 * A venue that is up reconnects on its own (each implementation has its own backoff); the
 * supervisor only covers starting.
 *
 * @module
 */

import {
  type InstrumentRules,
  type OrderVenue,
  type VenueCancelResult,
  type VenueListener,
  type VenueLogger,
  type VenueOrder,
  type VenueOrderStatus,
  type VenuePlaceResult,
  type VenueRequestOptions,
  VenueUnavailableError,
} from "./order_venue.ts";

/** First delay before a failed start is tried again, in ms. */
export const VENUE_RETRY_DELAY_MS_DEFAULT = 1000;
/** Longest delay between start attempts, in ms. */
export const VENUE_RETRY_DELAY_MS_MAX_DEFAULT = 60_000;

/** Options of {@linkcode VenueSupervisor}. */
export interface VenueSupervisorOptions {
  /** Provider name; every venue the factory builds must carry it. */
  provider: string;
  /** Builds a new, unstarted venue. */
  create: () => OrderVenue;
  /** First retry delay in ms (doubles per failure). Default 1000. */
  retryDelayMs?: number;
  /** Longest retry delay in ms. Default 60 000. */
  retryDelayMaxMs?: number;
  logger?: Pick<VenueLogger, "info" | "warn">;
}

/** An {@linkcode OrderVenue} that retries its start with backoff (see the module doc). */
export class VenueSupervisor implements OrderVenue {
  readonly provider: string;
  readonly #create: () => OrderVenue;
  readonly #retryDelayMs: number;
  readonly #retryDelayMaxMs: number;
  readonly #log: Pick<VenueLogger, "info" | "warn"> | null;
  #listener: VenueListener | null = null;
  #venue: OrderVenue | null = null;
  #up = false;
  #attempts = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempt: Promise<void> | null = null;
  #closed = false;

  /** Builds the supervisor; nothing runs until {@linkcode VenueSupervisor.start}. */
  constructor(opts: VenueSupervisorOptions) {
    this.provider = opts.provider;
    this.#create = opts.create;
    this.#retryDelayMs = opts.retryDelayMs ?? VENUE_RETRY_DELAY_MS_DEFAULT;
    this.#retryDelayMaxMs = opts.retryDelayMaxMs ?? VENUE_RETRY_DELAY_MS_MAX_DEFAULT;
    if (!(this.#retryDelayMs > 0 && this.#retryDelayMaxMs >= this.#retryDelayMs)) {
      throw new RangeError(
        `venue supervisor: expected 0 < retryDelayMs <= retryDelayMaxMs, found ${this.#retryDelayMs} and ${this.#retryDelayMaxMs}`,
      );
    }
    this.#log = opts.logger ?? null;
  }

  /** Start attempts made so far (1 when the first one succeeded). */
  get attempts(): number {
    return this.#attempts;
  }

  get ready(): boolean {
    return this.#up && this.#venue !== null && this.#venue.ready;
  }

  setListener(listener: VenueListener): void {
    this.#listener = listener;
  }

  /**
   * Makes the first attempt. Rejects when it fails (the caller logs it), and keeps trying in
   * the background until a venue is up or {@linkcode VenueSupervisor.close} is called.
   */
  async start(): Promise<void> {
    if (this.#listener === null) {
      throw new Error("venue supervisor: expected a listener before start, found none");
    }
    if (this.#attempts > 0) {
      throw new Error("venue supervisor: expected one start, found a second call");
    }
    await this.#tryStart(false);
  }

  rules(symbol: string): InstrumentRules | undefined {
    return this.#up ? this.#venue?.rules(symbol) : undefined;
  }

  place(order: VenueOrder, opts: VenueRequestOptions): Promise<VenuePlaceResult> {
    return this.#current().place(order, opts);
  }

  cancel(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueCancelResult> {
    return this.#current().cancel(ref, opts);
  }

  query(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueOrderStatus | null> {
    return this.#current().query(ref, opts);
  }

  openOrders(opts: VenueRequestOptions): Promise<VenueOrderStatus[]> {
    return this.#current().openOrders(opts);
  }

  /** Stops retrying and closes the current venue (bounded by the venue's own close). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#attempt?.catch(() => {});
    await this.#venue?.close();
  }

  #current(): OrderVenue {
    if (!this.#up || this.#venue === null) {
      throw new VenueUnavailableError(
        `${this.provider}: expected a started order venue, found none yet (start attempt ${this.#attempts} failed; retrying)`,
      );
    }
    return this.#venue;
  }

  /** One attempt: a fresh venue, started; on failure the next attempt is scheduled. */
  async #tryStart(resync: boolean): Promise<void> {
    this.#attempts++;
    const venue = this.#create();
    if (venue.provider !== this.provider) {
      throw new Error(
        `venue supervisor: expected a venue of "${this.provider}", found one of "${venue.provider}"`,
      );
    }
    const listener = this.#listener!;
    venue.setListener(listener);
    this.#venue = venue;
    const attempt = venue.start();
    this.#attempt = attempt;
    try {
      await attempt;
    } catch (err) {
      await venue.close().catch(() => {});
      if (!this.#closed) this.#schedule(err);
      throw err;
    } finally {
      this.#attempt = null;
    }
    if (this.#closed) {
      await venue.close();
      return;
    }
    this.#up = true;
    if (resync) {
      this.#log?.info("{provider}: order venue started after {attempts} attempts", {
        provider: this.provider,
        attempts: this.#attempts,
      });
      listener.onResynced();
    }
  }

  #schedule(err: unknown): void {
    const delayMs = Math.min(
      this.#retryDelayMaxMs,
      this.#retryDelayMs * 2 ** Math.min(30, this.#attempts - 1),
    );
    this.#log?.warn(
      "{provider}: order venue did not start ({reason}); attempt {attempt} in {delayMs} ms",
      {
        provider: this.provider,
        reason: err instanceof Error ? err.message : String(err),
        attempt: this.#attempts + 1,
        delayMs,
      },
    );
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#tryStart(true).catch(() => {}); // failures are logged and rescheduled above
    }, delayMs);
  }
}
