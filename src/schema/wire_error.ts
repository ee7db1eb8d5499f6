/**
 * The typed error every wire parser throws. The server turns it into an `ack` with
 * `ok: false` and `error: { code, message }`, so its code and message are part of the outside face.
 *
 * @module
 */

/** Why a wire message was refused. */
export type WireErrorCode =
  /** The message is not a JSON object. */
  | "not_an_object"
  /** Field `v` is missing or names a version this gateway does not speak. */
  | "bad_version"
  /** Field `type` is missing or names no known message (or not one allowed here). */
  | "unknown_type"
  /** A required field is absent. */
  | "missing_field"
  /** A field has the wrong type, format or range, or contradicts another field. */
  | "invalid_field"
  /** A command carries a field this version does not define (commands are strict). */
  | "unknown_field";

/** A wire message that does not match the schema; `message` says what was expected and found. */
export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
  /** Machine-readable reason, sent to clients as the ack's `error.code`. */
  readonly code: WireErrorCode;
  /** Path of the offending field (`symbol`, `fragments[2].bids[0]`), "" for the whole message. */
  readonly field: string;

  /** Creates an error; `message` starts lower-case and says what was expected and found. */
  constructor(code: WireErrorCode, message: string, options?: { field?: string }) {
    super(message);
    this.code = code;
    this.field = options?.field ?? "";
  }
}
