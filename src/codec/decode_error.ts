/**
 * The one error type every decoder throws for input it cannot turn into an event.
 *
 * Bad frames are an expected operating error (the exchange, a proxy or a fault injector sent
 * them), so callers catch this type, count it, log `sample`, and release the pooled target.
 *
 * @module
 */

/** How many characters of the offending input a {@linkcode DecodeError} keeps. */
export const DECODE_ERROR_SAMPLE_CHARS_MAX = 120;

/** Options of the {@linkcode DecodeError} constructor. */
export interface DecodeErrorOptions {
  /** Exchange whose frame failed (`binance`). */
  provider?: string;
  /** Character offset in the input where the problem was found, when known. */
  offset?: number;
  /** The underlying error (for example the JSON engine's own). */
  cause?: unknown;
}

/**
 * A frame could not be decoded: invalid JSON, a known shape with a field of the wrong type, or
 * a top-level value that is no exchange message at all.
 *
 * @example
 * ```ts
 * try {
 *   decodeBinanceFrame(text, raw);
 * } catch (e) {
 *   if (!(e instanceof DecodeError)) throw e;
 *   console.warn(e.reason, e.sample);
 * }
 * ```
 */
export class DecodeError extends Error {
  /** Exchange whose frame failed, when known. */
  readonly provider?: string;
  /** What was expected and what was found, without the sample. */
  readonly reason: string;
  /** Character offset of the problem, when the engine or decoder knows it. */
  readonly offset?: number;
  /** The first {@linkcode DECODE_ERROR_SAMPLE_CHARS_MAX} characters of the input. */
  readonly sample: string;

  /** `reason` says what was expected and what was found; `input` is the whole frame text. */
  constructor(reason: string, input: string, opts: DecodeErrorOptions = {}) {
    const sample = input.length > DECODE_ERROR_SAMPLE_CHARS_MAX
      ? input.slice(0, DECODE_ERROR_SAMPLE_CHARS_MAX)
      : input;
    const where = opts.offset === undefined ? "" : ` at offset ${opts.offset}`;
    const who = opts.provider === undefined ? "" : `${opts.provider} `;
    super(`${who}frame not decodable${where}: ${reason}`, { cause: opts.cause });
    this.name = "DecodeError";
    this.provider = opts.provider;
    this.reason = reason;
    this.offset = opts.offset;
    this.sample = sample;
  }
}
