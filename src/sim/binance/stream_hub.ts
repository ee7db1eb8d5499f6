/**
 * Stream channels and their subscribers. A producer publishes one payload per event to a
 * channel; the channel hands it to every subscribed connection, building the combined-stream
 * wrapper at most once per event.
 *
 * @module
 */

/** What a channel needs from a connection. */
export interface StreamSubscriber {
  /** Whether frames get the `{"stream","data"}` wrapper. */
  readonly combined: boolean;
  /** Sends one text frame (subject to the connection's faults). */
  sendFrame(text: string): void;
}

/** One stream name and the connections subscribed to it. */
export class StreamChannel {
  /** The stream name (`btcusdt@trade`). */
  readonly name: string;
  /** Subscribed connections. */
  readonly subscribers: Set<StreamSubscriber> = new Set();
  /** Payloads published (whether or not anyone listened). */
  published = 0;
  /** Made by a producer (kept when empty) rather than by a subscription (dropped when empty). */
  persistent: boolean;

  /** A channel without subscribers. */
  constructor(name: string, persistent: boolean) {
    this.name = name;
    this.persistent = persistent;
  }

  /** True when at least one connection listens: producers skip encoding otherwise. */
  get active(): boolean {
    return this.subscribers.size > 0;
  }

  /** Sends `payload` (the bare JSON object text) to every subscriber. */
  publish(payload: string): void {
    this.published++;
    let wrapped: string | null = null;
    for (const subscriber of this.subscribers) {
      if (subscriber.combined) {
        wrapped ??= wrapCombined(this.name, payload);
        subscriber.sendFrame(wrapped);
      } else {
        subscriber.sendFrame(payload);
      }
    }
  }
}

/** The combined-stream frame `{"stream":"<name>","data":<payload>}`. */
export function wrapCombined(stream: string, payload: string): string {
  return `{"stream":"${stream}","data":${payload}}`;
}

/**
 * All channels by name. Producers create theirs up front; a subscription to any other valid name
 * gets a channel that nothing publishes to (as on Binance, where a well-formed name for an
 * unknown symbol is accepted and stays silent).
 */
export class StreamHub {
  readonly #channels = new Map<string, StreamChannel>();
  readonly #onFirstSubscriber: (channel: StreamChannel) => void;

  /** `onFirstSubscriber` runs when a channel gains its first subscriber (lazy producers). */
  constructor(onFirstSubscriber: (channel: StreamChannel) => void = () => {}) {
    this.#onFirstSubscriber = onFirstSubscriber;
  }

  /** A producer's channel named `name`, created on first use and kept for good. */
  channel(name: string): StreamChannel {
    const channel = this.#channelOf(name);
    channel.persistent = true;
    return channel;
  }

  /** Adds `subscriber` to `name`'s channel and returns the channel. */
  subscribe(subscriber: StreamSubscriber, name: string): StreamChannel {
    const channel = this.#channelOf(name);
    const wasEmpty = channel.subscribers.size === 0;
    channel.subscribers.add(subscriber);
    if (wasEmpty) this.#onFirstSubscriber(channel);
    return channel;
  }

  /** Removes `subscriber` from `name`'s channel. */
  unsubscribe(subscriber: StreamSubscriber, name: string): void {
    const channel = this.#channels.get(name);
    if (channel === undefined) return;
    channel.subscribers.delete(subscriber);
    // Names nobody produces would otherwise pile up, one per distinct name ever subscribed.
    if (channel.subscribers.size === 0 && !channel.persistent) this.#channels.delete(name);
  }

  /** Number of channels (producers' plus those with subscribers). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Total subscriptions over all channels. */
  subscriptionCount(): number {
    let total = 0;
    for (const channel of this.#channels.values()) total += channel.subscribers.size;
    return total;
  }

  #channelOf(name: string): StreamChannel {
    let channel = this.#channels.get(name);
    if (channel === undefined) {
      channel = new StreamChannel(name, false);
      this.#channels.set(name, channel);
    }
    return channel;
  }
}
