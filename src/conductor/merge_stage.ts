/**
 * MergeStage: the plug-in point of the windowed merge (MISSION R-06, a later issue). One stage
 * serves one merged subscription (a symbol and kind across several providers). The conductor
 * shows it every event of its symbol and kind from one of its providers, before passing the
 * event on to the dispatcher.
 *
 * Ownership: a stage only looks. It copies what it needs (a fragment clone) during `observe`
 * and must neither keep a reference to the pooled event nor release it: the conductor hands the
 * same event to the dispatcher right after, which releases it exactly once. The merged events a
 * stage emits at window close come from their own pool and go to the dispatcher separately.
 *
 * @module
 */

import type { CanonicalEvent } from "../schema/canonical_event.ts";
import type { MarketEventKind } from "../schema/event_kind.ts";

/** One merged subscription's window logic, as the conductor sees it. */
export interface MergeStage {
  /** Unique id of the merged subscription (used in errors and stats). */
  readonly id: string;
  /** Canonical symbol merged across providers. */
  readonly symbol: string;
  /** Market-data kind merged. */
  readonly kind: MarketEventKind;
  /** Providers whose events feed the window (1..16, distinct). */
  readonly providers: readonly string[];
  /** Copies what the window needs from `ev`; must not keep `ev` or release it. */
  observe(ev: CanonicalEvent): void;
}
