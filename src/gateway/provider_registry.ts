/**
 * The exchanges the gateway carries, found at start-up rather than listed: every folder under
 * `src/adapter/` that holds a `provider.ts` is one provider, and that file's `provider` export
 * (a {@linkcode ProviderModule}) is all the gateway knows of it. Adding an exchange is adding
 * an adapter folder (with its `provider.ts`) and a simulator folder; no list is edited.
 *
 * Discovery reads the directory relative to this module's own URL, so it works from a checkout
 * and from a `deno compile` binary built with `--include src/adapter` (the dynamic imports are
 * not statically analysable, so the folder must be embedded explicitly). Folders are visited in
 * alphabetical order, so the provider order is the same on every machine.
 *
 * @module
 */

import type { EndpointUrls, ProviderModule } from "../adapter/shared/provider_module.ts";

/** A provider's name: lower-case letter first, then 1 to 15 lower-case letters or digits. */
export const PROVIDER_MODULE_NAME_RE = /^[a-z][a-z0-9]{1,15}$/;
/** An endpoint role: a letter, then letters or digits (`rest`, `ws`, `businessWs`). */
export const ENDPOINT_ROLE_RE = /^[a-zA-Z][a-zA-Z0-9]{0,31}$/;

/** The file each adapter folder exports its module from. */
export const PROVIDER_FILE = "provider.ts";
/** Bound on providers, so a stray directory tree cannot make start-up import without end. */
export const PROVIDERS_MAX = 64;

/** The default directory searched: `src/adapter/`, next to this module's folder. */
export const ADAPTER_DIR_URL: URL = new URL("../adapter/", import.meta.url);

/** Thrown when a provider module is missing a part or has a malformed one. */
export class ProviderRegistryError extends Error {
  override name = "ProviderRegistryError";
}

/** The discovered providers, in alphabetical order of name. */
export class ProviderRegistry {
  readonly #byName: ReadonlyMap<string, ProviderModule>;

  /** Wraps already validated modules; names must be unique (they are the folders' names). */
  constructor(readonly modules: readonly ProviderModule[]) {
    const byName = new Map<string, ProviderModule>();
    for (const m of modules) {
      if (byName.has(m.name)) {
        throw new ProviderRegistryError(`expected unique provider names, found "${m.name}" twice`);
      }
      byName.set(m.name, m);
    }
    this.#byName = byName;
  }

  /** Every provider name, in registry order. */
  names(): string[] {
    return this.modules.map((m) => m.name);
  }

  /** The module of `name`, or undefined. */
  get(name: string): ProviderModule | undefined {
    return this.#byName.get(name);
  }
}

/** Options of {@linkcode discoverProviders}. */
export interface DiscoverOptions {
  /** Directory whose sub-folders are searched (default {@linkcode ADAPTER_DIR_URL}). */
  adapterDir?: URL;
}

/**
 * Finds every `<adapterDir>/<folder>/provider.ts`, imports it and validates its `provider`
 * export. Throws {@linkcode ProviderRegistryError} naming the file and the part that is wrong,
 * or when no provider is found.
 *
 * @example
 * ```ts
 * const registry = await discoverProviders();
 * registry.names(); // ["binance", "kraken", "okx"]
 * ```
 */
export async function discoverProviders(opts: DiscoverOptions = {}): Promise<ProviderRegistry> {
  const dir = opts.adapterDir ?? ADAPTER_DIR_URL;
  const base = dir.href.endsWith("/") ? dir : new URL(`${dir.href}/`);
  const folders: string[] = [];
  for await (const entry of Deno.readDir(base)) {
    if (entry.isDirectory) folders.push(entry.name);
  }
  folders.sort();
  const modules: ProviderModule[] = [];
  for (const folder of folders) {
    const file = new URL(`${folder}/${PROVIDER_FILE}`, base);
    if (!(await isFile(file))) continue; // shared code, not an exchange
    if (modules.length >= PROVIDERS_MAX) {
      throw new ProviderRegistryError(
        `expected at most ${PROVIDERS_MAX} providers in ${base.pathname}, found more`,
      );
    }
    const where = `${folder}/${PROVIDER_FILE}`;
    let loaded: Record<string, unknown>;
    try {
      loaded = await import(file.href);
    } catch (err) {
      throw new ProviderRegistryError(
        `provider module ${where}: expected it to load, found an error: ${(err as Error).message}`,
      );
    }
    modules.push(validateProviderModule(loaded.provider, { where, folder }));
  }
  if (modules.length === 0) {
    throw new ProviderRegistryError(
      `expected at least one ${PROVIDER_FILE} under ${base.pathname}, found none`,
    );
  }
  return new ProviderRegistry(modules);
}

async function isFile(url: URL): Promise<boolean> {
  try {
    return (await Deno.stat(url)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  return typeof value === "object" ? "an object" : typeof value;
}

/**
 * Checks that `value` is a well-formed {@linkcode ProviderModule} exported by `where`, whose
 * name equals `folder`. Returns it typed; throws {@linkcode ProviderRegistryError} otherwise.
 */
export function validateProviderModule(
  value: unknown,
  source: { where: string; folder: string },
): ProviderModule {
  const fail = (what: string, found: unknown): never => {
    throw new ProviderRegistryError(
      `provider module ${source.where}: expected ${what}, found ${describe(found)}`,
    );
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail('an export "provider" (a ProviderModule object)', value);
  }
  const m = value as Record<string, unknown>;
  if (typeof m.name !== "string" || !PROVIDER_MODULE_NAME_RE.test(m.name)) {
    fail(`a name matching ${PROVIDER_MODULE_NAME_RE.source}`, m.name);
  }
  if (m.name !== source.folder) fail(`the name "${source.folder}" (its folder's name)`, m.name);
  const live = m.liveEndpoints;
  if (typeof live !== "object" || live === null || Array.isArray(live)) {
    fail("liveEndpoints, an object of role -> URL", live);
  }
  const roles = Object.entries(live as Record<string, unknown>);
  if (roles.length === 0) fail("liveEndpoints with at least one role", "an empty object");
  for (const [role, url] of roles) {
    if (!ENDPOINT_ROLE_RE.test(role)) {
      fail(`liveEndpoints roles matching ${ENDPOINT_ROLE_RE.source}`, role);
    }
    if (schemeFamily(url) === null) fail(`liveEndpoints.${role} an http(s) or ws(s) URL`, url);
  }
  if (typeof m.createFeed !== "function") fail("createFeed, a function", m.createFeed);
  if (typeof m.startSimulator !== "function") fail("startSimulator, a function", m.startSimulator);
  if (
    m.simCredentials !== undefined &&
    (typeof m.simCredentials !== "object" || m.simCredentials === null)
  ) {
    fail("simCredentials undefined or an object", m.simCredentials);
  }
  if (m.createOrderVenue !== undefined && typeof m.createOrderVenue !== "function") {
    fail("createOrderVenue undefined or a function", m.createOrderVenue);
  }
  return value as ProviderModule;
}

/** `http` for http/https URLs, `ws` for ws/wss, null for anything else. */
function schemeFamily(url: unknown): "http" | "ws" | null {
  if (typeof url !== "string") return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") return "http";
  if (parsed.protocol === "ws:" || parsed.protocol === "wss:") return "ws";
  return null;
}

/**
 * The providers to carry: `requested` checked against the registry (every name must be
 * discovered), or every discovered provider when `requested` is empty. Throws
 * {@linkcode ProviderRegistryError} with `what` (the flag or key) on an unknown name.
 */
export function selectProviders(
  registry: ProviderRegistry,
  requested: { what: string; names: readonly string[] },
): ProviderModule[] {
  if (requested.names.length === 0) return [...registry.modules];
  const known = registry.names();
  return requested.names.map((name) => {
    const m = registry.get(name);
    if (m === undefined) {
      throw new ProviderRegistryError(
        `${requested.what}: expected ${known.join(" or ")}, found ${JSON.stringify(name)}`,
      );
    }
    return m;
  });
}

/**
 * Checks endpoint overrides (`--endpoint <provider>.<role>=<url>`) against the modules: the
 * provider is known, each role is one of its `liveEndpoints` roles with the same scheme family
 * (http(s) or ws(s)), and every role is given (an adapter cannot mix a simulator with the
 * exchange). Returns the overrides by provider.
 */
export function checkEndpointOverrides(
  registry: ProviderRegistry,
  overrides: Readonly<Record<string, EndpointUrls>>,
): Map<string, EndpointUrls> {
  const out = new Map<string, EndpointUrls>();
  for (const [name, urls] of Object.entries(overrides)) {
    const m = registry.get(name);
    if (m === undefined) {
      throw new ProviderRegistryError(
        `--endpoint: expected a provider ${registry.names().join(" or ")}, found ${
          JSON.stringify(name)
        }`,
      );
    }
    const roles = Object.keys(m.liveEndpoints);
    for (const [role, url] of Object.entries(urls)) {
      const live = m.liveEndpoints[role];
      if (live === undefined) {
        throw new ProviderRegistryError(
          `--endpoint ${name}.${role}: expected a role ${roles.join(" or ")}, found "${role}"`,
        );
      }
      const family = schemeFamily(live);
      if (schemeFamily(url) !== family) {
        throw new ProviderRegistryError(
          `--endpoint ${name}.${role}: expected a ${
            family === "ws" ? "ws: or wss:" : "http: or https:"
          } URL, found ${JSON.stringify(url)}`,
        );
      }
    }
    // The trading roles are optional: without them the provider carries market data only.
    const required = roles.filter((r) => !(m.orderEndpointRoles ?? []).includes(r));
    const missing = required.filter((r) => urls[r] === undefined);
    if (missing.length > 0) {
      throw new ProviderRegistryError(
        `--endpoint ${name}: expected every role (${required.join(", ")}) or none, found ${
          missing.join(", ")
        } missing`,
      );
    }
    out.set(name, urls);
  }
  return out;
}
