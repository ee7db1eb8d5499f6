/**
 * Conductor: the orchestrator between the adapters and the dispatcher (MISSION ).
 *
 * Every pooled event an adapter produces enters through {@linkcode Conductor.ingest}. Events of
 * a (symbol, kind) with merged subscriptions are first shown to the matching
 * {@linkcode MergeStage}s, which copy what they need; then every event passes through to the
 * dispatcher unchanged (R-05 passthrough), since single-provider subscribers of the same stream
 * still want it. With no merge stage registered, ingest is a counter increment, a map miss and
 * the dispatch call.
 *
 * Ownership: `ingest(ev)` takes ownership of a pooled event and hands it on to the dispatcher,
 * which releases it exactly once. The conductor never releases, and a failing merge stage cannot
 * stop the hand-off (its exception is caught, counted and reported).
 *
 * @module
 */

import type { CanonicalEvent } from "../schema/canonical_event.ts";
import type { MergeStage } from "./merge_stage.ts";

/** Merge stages one conductor holds by default. */
export const MERGE_STAGES_MAX_DEFAULT = 1024;

/** Where the conductor passes events on to: the dispatcher. */
export interface EventSink {
  /** Takes ownership of `ev` (and releases it exactly once). */
  dispatch(ev: CanonicalEvent): void;
}

/** Options of {@linkcode Conductor}. */
export interface ConductorOptions {
  /** The dispatcher. */
  sink: EventSink;
  /** Most merge stages at once. Default {@linkcode MERGE_STAGES_MAX_DEFAULT}. */
  mergeStagesMax?: number;
  /** Told about each exception a merge stage throws (already counted). Must not throw. */
  onError?: (err: unknown, stageId: string) => void;
}

/** A snapshot of the conductor's counters. */
export interface ConductorStats {
  /** Events ingested (each passed through to the dispatcher). */
  ingested: number;
  /** Events shown to a merge stage (one per stage that saw it). */
  mergeObservations: number;
  /** Exceptions thrown by merge stages. */
  mergeStageErrors: number;
  /** Merge stages registered. */
  mergeStages: number;
}

const NO_STAGES: readonly MergeStage[] = Object.freeze([]);

/**
 * The conductor.
 *
 * @example
 * ```ts
 * const conductor = new Conductor({ sink: dispatcher });
 * const ev = pools.canonical.tryAcquire()!;
 * normalizeInto(ev, raw);
 * conductor.ingest(ev); // ownership passes on; do not touch ev afterwards
 * ```
 */
export class Conductor {
  /** Most merge stages at once. */
  readonly mergeStagesMax: number;

  readonly #sink: EventSink;
  readonly #onError: ((err: unknown, stageId: string) => void) | null;
  /** symbol -> kind -> stages (frozen, replaced on change so an ingest in progress is safe). */
  readonly #stages = new Map<string, Map<string, readonly MergeStage[]>>();
  readonly #stageIds = new Set<string>();
  #ingested = 0;
  #mergeObservations = 0;
  #mergeStageErrors = 0;

  /** Creates a conductor passing everything through to `opts.sink`. */
  constructor(opts: ConductorOptions) {
    const max = opts.mergeStagesMax ?? MERGE_STAGES_MAX_DEFAULT;
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(`expected an integer mergeStagesMax >= 0, found ${max}`);
    }
    this.mergeStagesMax = max;
    this.#sink = opts.sink;
    this.#onError = opts.onError ?? null;
  }

  /**
   * Takes a pooled event from an adapter: shows it to the merge stages of its symbol and kind
   * that expect its provider, then passes it to the dispatcher. Ownership passes on.
   */
  ingest(ev: CanonicalEvent): void {
    this.#ingested++;
    const stages = this.#stagesOf(ev.symbol, ev.kind);
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i];
      if (stage.providers.includes(ev.provider)) this.#observe(stage, ev);
    }
    this.#sink.dispatch(ev);
  }

  /** Registers a merge stage; throws on a duplicate id or when `mergeStagesMax` is reached. */
  addMergeStage(stage: MergeStage): void {
    if (this.#stageIds.has(stage.id)) {
      throw new Error(`expected a new merge stage id, found "${stage.id}" already registered`);
    }
    if (this.#stageIds.size >= this.mergeStagesMax) {
      throw new Error(
        `expected at most ${this.mergeStagesMax} merge stages, found ${this.#stageIds.size} registered`,
      );
    }
    let byKind = this.#stages.get(stage.symbol);
    if (byKind === undefined) {
      byKind = new Map();
      this.#stages.set(stage.symbol, byKind);
    }
    byKind.set(stage.kind, Object.freeze([...(byKind.get(stage.kind) ?? NO_STAGES), stage]));
    this.#stageIds.add(stage.id);
  }

  /** Unregisters a merge stage by id; false when there is none. */
  removeMergeStage(stageId: string): boolean {
    if (!this.#stageIds.delete(stageId)) return false;
    for (const [symbol, byKind] of this.#stages) {
      for (const [kind, stages] of byKind) {
        const kept = stages.filter((s) => s.id !== stageId);
        if (kept.length === stages.length) continue;
        if (kept.length === 0) byKind.delete(kind);
        else byKind.set(kind, Object.freeze(kept));
      }
      if (byKind.size === 0) this.#stages.delete(symbol);
    }
    return true;
  }

  /** A snapshot of the counters. */
  stats(): ConductorStats {
    return {
      ingested: this.#ingested,
      mergeObservations: this.#mergeObservations,
      mergeStageErrors: this.#mergeStageErrors,
      mergeStages: this.#stageIds.size,
    };
  }

  #stagesOf(symbol: string, kind: string): readonly MergeStage[] {
    // Fast exit for the common case of no merged subscription at all.
    if (this.#stages.size === 0) return NO_STAGES;
    return this.#stages.get(symbol)?.get(kind) ?? NO_STAGES;
  }

  #observe(stage: MergeStage, ev: CanonicalEvent): void {
    try {
      stage.observe(ev);
      this.#mergeObservations++;
    } catch (err) {
      this.#mergeStageErrors++;
      if (this.#onError === null) return;
      try {
        this.#onError(err, stage.id);
      } catch {
        // The reporter failed as well; the counter keeps the record.
      }
    }
  }
}
