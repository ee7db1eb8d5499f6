/**
 * The gateway's order side, assembled: the durable database (intent journal and exec-report log
 * in one file), one {@linkcode OrderVenue} per provider that can trade, the
 * {@linkcode OrderGateway}, and the {@linkcode OrderDesk} the server's control surfaces call.
 *
 * Credentials: a provider's venue uses its API keys from the environment
 * (`SWITCHYARD_<PROVIDER>_API_KEY`, ...; read by the venue's own `credentialsFromEnv`). Without
 * them, a provider whose endpoints are all on loopback (an embedded or a `deno task sim`
 * simulator) gets the simulator's fake credentials; any other provider gets no venue, and
 * orders to it are refused with `unknown_provider` (logged at startup).
 *
 * @module
 */

import type { EndpointUrls, ProviderModule } from "../adapter/shared/provider_module.ts";
import type { BoundedPool } from "../pool/mod.ts";
import type { OrderRequest } from "../schema/order_request.ts";
import {
  type OrderCancelCommand,
  orderRequestFromCommand,
  type OrderSubmitCommand,
} from "../schema/mod.ts";
import type { OrderCommandContext, OrderDesk, OrderOutcome } from "../server/mod.ts";
import { ExecReportLog } from "../consumer/mod.ts";
import {
  IntentJournal,
  type IntentView,
  type OrderGateway,
  type OrderVenue,
  VenueSupervisor,
} from "../orders/mod.ts";
import {
  MEMORY_DATABASE_PATH,
  openDurableDatabase,
  startWalCheckpointer,
  type WalCheckpointer,
} from "../storage/mod.ts";
import type { Logger } from "../telemetry/mod.ts";

/** File name of the durable database inside the data directory. */
export const DATABASE_FILE_NAME = "switchyard.db";

/** The durable side of the gateway: one database holding the journal and the report log. */
export interface OrderStore {
  /** The database file (or `:memory:`). */
  readonly path: string;
  readonly journal: IntentJournal;
  readonly execLog: ExecReportLog;
  /** Closes the journal, the log and the database (idempotent). */
  close(): void;
}

/**
 * Opens the durable store in `dataDir` (created if needed): `switchyard.db`, holding the intent
 * journal and the per-consumer exec-report log. `:memory:` keeps it in memory (tests). A file
 * database is checkpointed by a background worker (`startWalCheckpointer`), so checkpoint
 * fsyncs stay off the event loop that journals orders.
 */
export function openOrderStore(dataDir: string): OrderStore {
  let path = MEMORY_DATABASE_PATH;
  if (dataDir !== MEMORY_DATABASE_PATH) {
    Deno.mkdirSync(dataDir, { recursive: true });
    path = `${dataDir.replace(/\/+$/, "")}/${DATABASE_FILE_NAME}`;
  }
  const db = openDurableDatabase(path);
  let journal: IntentJournal;
  let execLog: ExecReportLog;
  try {
    journal = new IntentJournal({ database: db });
    execLog = new ExecReportLog({ database: db });
  } catch (err) {
    db.close();
    throw err;
  }
  const checkpointer: WalCheckpointer | null = path === MEMORY_DATABASE_PATH
    ? null
    : startWalCheckpointer(path);
  let closed = false;
  return {
    path,
    journal,
    execLog,
    close: () => {
      if (closed) return;
      closed = true;
      checkpointer?.close();
      journal.close();
      execLog.close();
      db.close();
    },
  };
}

/** True when every endpoint URL points at this machine (a simulator). */
export function endpointsAreLoopback(endpoints: EndpointUrls): boolean {
  const urls = Object.values(endpoints);
  if (urls.length === 0) return false;
  return urls.every((u) => {
    const host = new URL(u).hostname;
    return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  });
}

/** Options of {@linkcode createVenues}. */
export interface CreateVenuesOptions {
  /** The carried providers with the endpoints their feeds use. */
  providers: readonly { module: ProviderModule; endpoints: EndpointUrls }[];
  logger: Logger;
}

/** One venue per provider that can trade (see the module doc); the rest are logged. */
export function createVenues(opts: CreateVenuesOptions): Map<string, OrderVenue> {
  const venues = new Map<string, OrderVenue>();
  for (const { module, endpoints } of opts.providers) {
    const factory = module.createOrderVenue;
    if (factory === undefined) {
      opts.logger.warning("{provider}: no order venue in its provider module; orders refused", {
        provider: module.name,
      });
      continue;
    }
    const absent = (module.orderEndpointRoles ?? []).filter((r) => endpoints[r] === undefined);
    if (absent.length > 0) {
      opts.logger.warning("{provider}: no {roles} endpoint given; orders to it are refused", {
        provider: module.name,
        roles: absent.join(", "),
      });
      continue;
    }
    const fromEnv = module.orderCredentialsFromEnv?.() ?? null;
    const credentials = fromEnv ??
      (endpointsAreLoopback(endpoints) ? module.simCredentials ?? null : null);
    if (credentials === null) {
      opts.logger.warning(
        "{provider}: no API keys in the environment (see docs/configuration.md); orders to it are refused",
        { provider: module.name },
      );
      continue;
    }
    const logger = opts.logger.with({ provider: module.name });
    // A venue whose start fails closes itself: the supervisor builds and starts a new one with
    // backoff, so an exchange that refused a login at start-up trades once it accepts one.
    venues.set(
      module.name,
      new VenueSupervisor({
        provider: module.name,
        create: () => factory({ endpoints, credentials, logger }),
        logger,
      }),
    );
    opts.logger.info("{provider}: order venue configured ({source} credentials)", {
      provider: module.name,
      source: fromEnv !== null ? "environment" : "simulator",
    });
  }
  return venues;
}

/**
 * The {@linkcode OrderDesk} over an {@linkcode OrderGateway}: turns a command into a pooled
 * {@linkcode OrderRequest} (the gateway owns it from there and releases it exactly once).
 */
export class GatewayOrderDesk implements OrderDesk {
  readonly #gateway: OrderGateway;
  readonly #requests: BoundedPool<OrderRequest>;
  readonly #clock: () => number;
  #open = false;

  /** Builds the desk. */
  constructor(opts: {
    gateway: OrderGateway;
    requests: BoundedPool<OrderRequest>;
    clock?: () => number;
  }) {
    this.#gateway = opts.gateway;
    this.#requests = opts.requests;
    this.#clock = opts.clock ?? Date.now;
  }

  submit(cmd: OrderSubmitCommand, ctx: OrderCommandContext): OrderOutcome {
    return this.#pass(cmd, ctx, (req) => this.#gateway.submit(req));
  }

  cancel(cmd: OrderCancelCommand, ctx: OrderCommandContext): OrderOutcome {
    return this.#pass(cmd, ctx, (req) => this.#gateway.cancel(req));
  }

  setTrading(consumerId: string, enabled: boolean): void {
    this.#gateway.setTrading(consumerId, enabled);
  }

  tradingEnabled(consumerId: string): boolean {
    return this.#gateway.tradingEnabled(consumerId);
  }

  orders(consumerId: string, limit: number): unknown[] {
    return this.#gateway.orders(consumerId, limit).map(wireIntent);
  }

  /**
   * Opens the desk once the venues are registered. Before that (the gateway is still starting
   * its feeds, whose endpoints the venues use) orders are refused `venue_unavailable`.
   */
  open(): void {
    this.#open = true;
  }

  /** Fills a pooled request from `cmd` and hands it (and its ownership) to `send`. */
  #pass(
    cmd: OrderSubmitCommand | OrderCancelCommand,
    ctx: OrderCommandContext,
    send: (req: OrderRequest) => ReturnType<OrderGateway["submit"]>,
  ): OrderOutcome {
    if (!this.#open) {
      return {
        ok: false,
        code: "venue_unavailable",
        message:
          "expected the order side started, found the gateway still starting its exchange connections; retry shortly with the same client_order_id",
      };
    }
    const req = this.#requests.tryAcquire();
    if (req === null) return this.#exhausted();
    orderRequestFromCommand(cmd, {
      consumerId: ctx.consumerId,
      createdTsMs: this.#clock(),
      traceId: ctx.traceId,
      into: req,
    });
    return outcomeOf(send(req));
  }

  /**
   * Every request slot is in flight. Commands are acknowledged synchronously (the ack says
   * "journaled"), so the desk does not wait for a slot: `busy` is the backpressure, and a retry
   * with the same client_order_id is safe (the journal answers it if it got through).
   */
  #exhausted(): OrderOutcome {
    return {
      ok: false,
      code: "busy",
      message:
        `expected a free order request slot (${this.#requests.capacity} in flight at most), found none; retry later`,
    };
  }
}

function outcomeOf(o: ReturnType<OrderGateway["submit"]>): OrderOutcome {
  if (o.ok) return o;
  return o.existing === undefined
    ? { ok: false, code: o.code, message: o.message }
    : { ok: false, code: o.code, message: o.message, existing: wireIntent(o.existing) };
}

/** An intent as the control surfaces show it (snake_case, like the wire format). */
export function wireIntent(v: IntentView): Record<string, unknown> {
  return {
    consumer_id: v.consumerId,
    client_order_id: v.clientOrderId,
    provider: v.provider,
    symbol: v.symbol,
    side: v.side,
    order_type: v.orderType,
    time_in_force: v.timeInForce,
    price: v.price,
    qty: v.qty,
    venue_client_id: v.venueClientId,
    exchange_order_id: v.exchangeOrderId,
    state: v.state,
    cum_qty: v.cumQty,
    cum_quote: v.cumQuote,
    reason_code: v.reasonCode,
    reason_text: v.reasonText,
    created_ms: v.createdMs,
    updated_ms: v.updatedMs,
  };
}
