/**
 * OutboundQueue: the encoded messages waiting for one WebSocket, cut into frames.
 *
 * Framing rule (documented for client authors in `docs/server.md`): a frame carrying one
 * message is that message's JSON object; a frame carrying several is a JSON array of them, in
 * order, never empty and never of length one. A frame holds at most `batchMessagesMax` messages
 * and at most `batchCharsMax` characters, unless a single message is larger on its own (then it
 * travels alone, unsplit).
 *
 * Messages are kept as encoded text, so an array frame is built by joining texts rather than by
 * encoding the batch again.
 *
 * @module
 */

/** Most messages in one array frame by default. */
export const BATCH_MESSAGES_MAX_DEFAULT = 256;
/**
 * Most characters in one array frame by default (64 Ki). The wire format is ASCII (its patterns
 * allow nothing else in the fields market data uses), so characters are bytes on the wire.
 */
export const BATCH_CHARS_MAX_DEFAULT = 65_536;

/** Options of {@linkcode OutboundQueue}. */
export interface OutboundQueueOptions {
  /** Most messages per frame (>= 1). Default {@linkcode BATCH_MESSAGES_MAX_DEFAULT}. */
  batchMessagesMax?: number;
  /** Most characters per array frame (>= 2). Default {@linkcode BATCH_CHARS_MAX_DEFAULT}. */
  batchCharsMax?: number;
}

/** Compaction threshold: the consumed prefix is cut off once it is this long. */
const COMPACT_AT = 4096;

/** A FIFO of encoded messages that hands them out frame by frame. */
export class OutboundQueue {
  /** Most messages per frame. */
  readonly batchMessagesMax: number;
  /** Most characters per array frame. */
  readonly batchCharsMax: number;
  /** Messages in the frame returned by the last {@linkcode OutboundQueue.takeFrame}. */
  lastFrameMessages = 0;

  #items: string[] = [];
  #head = 0;
  #chars = 0;

  /** Creates an empty queue. */
  constructor(opts?: OutboundQueueOptions) {
    this.batchMessagesMax = opts?.batchMessagesMax ?? BATCH_MESSAGES_MAX_DEFAULT;
    this.batchCharsMax = opts?.batchCharsMax ?? BATCH_CHARS_MAX_DEFAULT;
    if (!Number.isInteger(this.batchMessagesMax) || this.batchMessagesMax < 1) {
      throw new RangeError(
        `expected an integer batchMessagesMax >= 1, found ${this.batchMessagesMax}`,
      );
    }
    if (!Number.isInteger(this.batchCharsMax) || this.batchCharsMax < 2) {
      throw new RangeError(`expected an integer batchCharsMax >= 2, found ${this.batchCharsMax}`);
    }
  }

  /** Messages waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Characters waiting (sum of the messages' lengths). */
  get chars(): number {
    return this.#chars;
  }

  /** True when the waiting messages fill at least one frame to one of its bounds. */
  get hasFullFrame(): boolean {
    return this.length >= this.batchMessagesMax || this.#chars >= this.batchCharsMax;
  }

  /** Appends one encoded message (a JSON object's text). */
  push(text: string): void {
    this.#items.push(text);
    this.#chars += text.length;
  }

  /**
   * Removes the next frame's messages and returns the frame text: the message itself when the
   * frame holds one, else a JSON array of them. Null when empty. Sets `lastFrameMessages`.
   */
  takeFrame(): string | null {
    const items = this.#items;
    const head = this.#head;
    const available = items.length - head;
    if (available === 0) {
      this.lastFrameMessages = 0;
      return null;
    }
    const first = items[head];
    // Brackets plus the first message; each further message adds a comma and itself.
    let size = first.length + 2;
    let n = 1;
    while (n < this.batchMessagesMax && n < available) {
      const nextSize = size + 1 + items[head + n].length;
      if (nextSize > this.batchCharsMax) break;
      size = nextSize;
      n++;
    }
    let text: string;
    if (n === 1) {
      text = first;
    } else {
      text = "[" + first;
      for (let i = 1; i < n; i++) text += "," + items[head + i];
      text += "]";
    }
    let taken = 0;
    for (let i = 0; i < n; i++) {
      taken += items[head + i].length;
      // Let the message text be collected as soon as the frame has been sent.
      items[head + i] = "";
    }
    this.#chars -= taken;
    assert(this.#chars >= 0, "more characters taken than queued");
    this.#head = head + n;
    this.lastFrameMessages = n;
    this.#compact();
    return text;
  }

  /** Drops every waiting message; returns how many were dropped. */
  clear(): number {
    const dropped = this.length;
    this.#items = [];
    this.#head = 0;
    this.#chars = 0;
    return dropped;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/** Invariant check: a failure is a bug in the queue, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`outbound queue invariant violated: ${what}`);
}
