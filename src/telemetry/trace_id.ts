/**
 * Trace ids and decision ids for ops telemetry and the dead-letter queue.
 *
 * - A **trace id** names one flow through the gateway: one WebSocket frame and what came of it,
 *   or one order from request to its last ExecReport. Every telemetry event and DLQ entry that
 *   flow produces carries the same trace id, so `grep` joins them.
 * - A **decision id** names one decision that produced telemetry: one coalescing pass, one drop at
 *   a full queue, one suppressed merge window. Several events from one decision (a `dropped` and
 *   its DLQ entries) share it.
 *
 * Ids are a tag, a process-random prefix drawn once at start-up and a counter in base 36
 * (`t-3fa9c2d1-1a`): unique across restarts with high probability, ordered within a process, and
 * cheap — one string concatenation per id, no random bytes or crypto per event.
 *
 * @example
 * ```ts
 * const traceId = newTraceId(); // "t-3fa9c2d1-1"
 * const decisionId = newDecisionId(); // "d-3fa9c2d1-1"
 * ```
 *
 * @module
 */

/** The id of telemetry for which a trace or a decision does not apply. */
export const NO_ID = "";

/** Hex characters of the process-random prefix (32 random bits). */
const PREFIX_HEX_CHARS = 8;

function randomPrefix(): string {
  // Drawn once per process, so the cost of the crypto source does not matter.
  const word = crypto.getRandomValues(new Uint32Array(1))[0];
  return word.toString(16).padStart(PREFIX_HEX_CHARS, "0");
}

/** The random prefix shared by every id this process issues (log it at start-up). */
export const PROCESS_ID_PREFIX: string = randomPrefix();

const TAG_RE = /^[a-z][a-z0-9]{0,7}$/;
const PREFIX_RE = /^[0-9a-z]{1,16}$/;

/** Options of {@linkcode IdSource}. */
export interface IdSourceOptions {
  /** Prefix after the tag; default {@linkcode PROCESS_ID_PREFIX}. Tests pass a fixed one. */
  prefix?: string;
}

/** Issues ids `<tag>-<prefix>-<counter in base 36>`, counting from 1. */
export class IdSource {
  /** Tag, e.g. `t` for traces, `d` for decisions. */
  readonly tag: string;
  /** The process-random (or given) part. */
  readonly prefix: string;
  readonly #head: string;
  #issued = 0;

  /** Makes a source; `tag` is 1-8 lower-case letters or digits, starting with a letter. */
  constructor(tag: string, opts?: IdSourceOptions) {
    if (!TAG_RE.test(tag)) {
      throw new Error(`id tag: expected 1-8 of [a-z0-9] starting with a letter, found "${tag}"`);
    }
    const prefix = opts?.prefix ?? PROCESS_ID_PREFIX;
    if (!PREFIX_RE.test(prefix)) {
      throw new Error(`id prefix: expected 1-16 of [0-9a-z], found "${prefix}"`);
    }
    this.tag = tag;
    this.prefix = prefix;
    this.#head = `${tag}-${prefix}-`;
  }

  /** The next id. Allocates one short string; never throws in practice (2^53 ids). */
  next(): string {
    this.#issued++;
    return this.#head + this.#issued.toString(36);
  }

  /** How many ids were issued. */
  get issued(): number {
    return this.#issued;
  }
}

const traceIds = new IdSource("t");
const decisionIds = new IdSource("d");

/** A new trace id for one flow (a frame, an order); see the module docs. */
export function newTraceId(): string {
  return traceIds.next();
}

/** A new decision id for one decision that produces telemetry; see the module docs. */
export function newDecisionId(): string {
  return decisionIds.next();
}
