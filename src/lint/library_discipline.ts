/**
 * The project's `deno lint` plugin: it enforces Switchyard's library discipline (MISSION R-20).
 *
 * - `switchyard/no-third-party-websocket`: code under `src/` talks WebSocket only through Deno's
 *   built-in `WebSocket` / `Deno.upgradeWebSocket`; importing `ws`, `isomorphic-ws`,
 *   `socket.io-client` and friends is an error, whatever the import form.
 * - `switchyard/no-raw-json`: the hot path (`src/adapter/`, `src/conductor/`, `src/dispatcher/`)
 *   never touches `JSON.parse` / `JSON.stringify` directly; it goes through `src/codec`, which
 *   picks the measured engine per message shape.
 *
 * The plugin is wired in by the project's deno.json (`"lint": {"plugins": [...]}`), so `deno lint`
 * (and with it CI) fails with the messages below.
 *
 * @example
 * ```ts
 * import plugin from "./library_discipline.ts";
 * // inside `deno test` only:
 * const diagnostics = Deno.lint.runPlugin(plugin, "src/adapter/feed.ts", 'JSON.parse("1")');
 * ```
 *
 * @module
 */

/** Message of `switchyard/no-third-party-websocket`; CI output is matched against it verbatim. */
export const WEBSOCKET_MESSAGE = "use Deno's built-in WebSocket";

/** Message of `switchyard/no-raw-json`; CI output is matched against it verbatim. */
export const RAW_JSON_MESSAGE = "use src/codec";

/**
 * npm package names (lower case) of third-party WebSocket libraries banned under `src/`.
 * Clients and servers alike: the service must run on Deno's own implementation, whose
 * behaviour (auto-pong, idle timeout, backpressure) the project has measured.
 */
export const BANNED_WEBSOCKET_PACKAGES: ReadonlySet<string> = new Set([
  "ws",
  "isomorphic-ws",
  "isows",
  "websocket",
  "websocket-stream",
  "simple-websocket",
  "faye-websocket",
  "reconnecting-websocket",
  "partysocket",
  "socket.io",
  "socket.io-client",
  "engine.io",
  "engine.io-client",
  "sockjs",
  "sockjs-client",
  "uws",
  "uwebsockets.js",
]);

/** Folders directly under `src/` that form the hot path, where raw JSON is banned. */
export const HOT_PATH_FOLDERS: ReadonlySet<string> = new Set([
  "adapter",
  "conductor",
  "dispatcher",
]);

/**
 * Hosts that serve npm packages as ES modules; an `https:` import from them is an npm import in
 * disguise. The value is the path prefix that precedes the package name.
 */
const NPM_CDN_PREFIXES: ReadonlyMap<string, string> = new Map([
  ["esm.sh", ""],
  ["esm.run", ""],
  ["unpkg.com", ""],
  ["cdn.skypack.dev", ""],
  ["cdn.jsdelivr.net", "npm/"],
  ["ga.jspm.io", "npm:"],
]);

/** Identifiers that name the global object, so `globalThis.JSON` is the same `JSON`. */
const GLOBAL_OBJECT_NAMES: ReadonlySet<string> = new Set([
  "globalThis",
  "window",
  "self",
  "global",
]);

/** The two `JSON` members that must go through src/codec on the hot path. */
const RAW_JSON_METHODS: ReadonlySet<string> = new Set(["parse", "stringify"]);

/**
 * The package name when `specifier` names a banned third-party WebSocket library, else `null`.
 *
 * Understands bare (`ws`, `ws/lib/sender.js`), `npm:` (`npm:ws@8.18.0`, `npm:/ws@8`), scoped and
 * npm-CDN (`https://esm.sh/ws@8`) specifiers. Relative, absolute, `node:`, `jsr:` and other URL
 * specifiers are never banned.
 *
 * @example
 * ```ts
 * bannedWebSocketPackage("npm:ws@8.18.0/lib/sender.js"); // "ws"
 * bannedWebSocketPackage("../codec/mod.ts"); // null
 * ```
 */
export function bannedWebSocketPackage(specifier: string): string | null {
  const bare = npmPathOf(specifier.trim());
  if (bare === null) return null;
  const name = packageNameOf(bare);
  if (name === null) return null;
  return BANNED_WEBSOCKET_PACKAGES.has(name) ? name : null;
}

/**
 * Whether `filename` lies in a `src/` folder (the library-discipline scope).
 * Accepts absolute or relative paths, `file://` URLs and Windows separators.
 */
export function isUnderSource(filename: string): boolean {
  const segments = pathSegments(filename);
  // The last segment is the file itself; only directories count.
  return segments.slice(0, -1).includes("src");
}

/**
 * Whether `filename` lies in one of the hot-path folders (`src/adapter/`, `src/conductor/`,
 * `src/dispatcher/`), at any depth below them.
 */
export function isOnHotPath(filename: string): boolean {
  const segments = pathSegments(filename);
  const directoriesCount = segments.length - 1;
  for (let index = 0; index + 1 < directoriesCount; index++) {
    if (segments[index] === "src" && HOT_PATH_FOLDERS.has(segments[index + 1])) return true;
  }
  return false;
}

/** The path's segments after normalising separators, `file://`, `.` and `..`. */
function pathSegments(filename: string): string[] {
  let path = filename.replaceAll("\\", "/");
  if (path.startsWith("file://")) path = safeDecode(path.slice("file://".length));
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return segments;
}

/** `decodeURIComponent` that keeps the raw text when it is not valid percent-encoding. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The npm-style path (`name@version/sub/path`) a specifier points at, or `null` when the
 * specifier is not an npm package (relative, absolute, `node:`, `jsr:`, other URLs).
 */
function npmPathOf(specifier: string): string | null {
  if (specifier.startsWith("npm:")) return specifier.slice("npm:".length).replace(/^\/+/, "");
  if (/^https?:\/\//i.test(specifier)) return npmPathOfCdnUrl(specifier);
  // Any other scheme (node:, jsr:, data:, file:, ...) or a path is not a bare package name.
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return null;
  if (specifier.startsWith(".") || specifier.startsWith("/")) return null;
  return specifier;
}

/** The npm path inside an npm-CDN URL, or `null` for any other URL. */
function npmPathOfCdnUrl(specifier: string): string | null {
  let url: URL;
  try {
    url = new URL(specifier);
  } catch {
    return null;
  }
  const prefix = NPM_CDN_PREFIXES.get(url.hostname.toLowerCase());
  if (prefix === undefined) return null;
  const path = url.pathname.replace(/^\/+/, "");
  return path.startsWith(prefix) ? path.slice(prefix.length) : null;
}

/** The lower-case package name of `name@version/sub/path` or `@scope/name@version/sub/path`. */
function packageNameOf(npmPath: string): string | null {
  const parts = npmPath.split("/");
  const scoped = npmPath.startsWith("@");
  const nameWithVersion = scoped ? `${parts[0]}/${parts[1] ?? ""}` : parts[0];
  // In a scoped name the first "@" belongs to the scope; the version separator comes after it.
  const versionAt = nameWithVersion.indexOf("@", scoped ? 1 : 0);
  const name = versionAt === -1 ? nameWithVersion : nameWithVersion.slice(0, versionAt);
  if (name === "" || name === "@" || name.endsWith("/")) return null;
  return name.toLowerCase();
}

/** The text of a string literal or of a template literal without substitutions, else `null`. */
function staticString(node: Deno.lint.Node | null | undefined): string | null {
  if (node === null || node === undefined) return null;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && node.expressions.length === 0) {
    return node.quasis[0]?.cooked ?? null;
  }
  return null;
}

/** The expression without TypeScript-only wrappers (`x as T`, `x!`, `<T>x`, `x satisfies T`). */
function unwrapTypeScript(node: Deno.lint.Expression): Deno.lint.Expression {
  let current = node;
  while (
    current.type === "TSAsExpression" || current.type === "TSNonNullExpression" ||
    current.type === "TSSatisfiesExpression" || current.type === "TSTypeAssertion"
  ) {
    current = current.expression;
  }
  return current;
}

/** The statically known name of a member (`a.b`, `a["b"]`, ``a[`b`]``), else `null`. */
function memberName(node: Deno.lint.MemberExpression): string | null {
  if (!node.computed) return node.property.type === "Identifier" ? node.property.name : null;
  return staticString(node.property);
}

/** Whether `node` is the global object (`globalThis`, `window`, `globalThis.globalThis`, ...). */
function isGlobalObject(node: Deno.lint.Expression): boolean {
  const expression = unwrapTypeScript(node);
  if (expression.type === "Identifier") return GLOBAL_OBJECT_NAMES.has(expression.name);
  if (expression.type !== "MemberExpression") return false;
  const name = memberName(expression);
  return name !== null && GLOBAL_OBJECT_NAMES.has(name) && isGlobalObject(expression.object);
}

/** Whether `node` is the built-in `JSON` object, directly or through the global object. */
function isJsonObject(node: Deno.lint.Expression): boolean {
  const expression = unwrapTypeScript(node);
  if (expression.type === "Identifier") return expression.name === "JSON";
  if (expression.type !== "MemberExpression") return false;
  return memberName(expression) === "JSON" && isGlobalObject(expression.object);
}

/** The statically known key of an object-pattern property, else `null`. */
function propertyKeyName(property: Deno.lint.Property): string | null {
  if (!property.computed && property.key.type === "Identifier") return property.key.name;
  return staticString(property.key);
}

/**
 * Reports `parse`/`stringify` pulled out of `JSON` by destructuring (`const { parse } = JSON`),
 * including the nested form `const { JSON: { parse } } = globalThis`.
 */
function reportJsonDestructuring(
  ctx: Deno.lint.RuleContext,
  pattern: Deno.lint.ObjectPattern,
  source: Deno.lint.Expression,
): void {
  if (isJsonObject(source)) {
    reportJsonMethodKeys(ctx, pattern);
    return;
  }
  if (!isGlobalObject(source)) return;
  for (const property of pattern.properties) {
    if (property.type !== "Property" || propertyKeyName(property) !== "JSON") continue;
    if (property.value.type === "ObjectPattern") reportJsonMethodKeys(ctx, property.value);
  }
}

/** Reports every `parse`/`stringify` key of a pattern that destructures `JSON` itself. */
function reportJsonMethodKeys(ctx: Deno.lint.RuleContext, pattern: Deno.lint.ObjectPattern): void {
  for (const property of pattern.properties) {
    if (property.type !== "Property") continue;
    const key = propertyKeyName(property);
    if (key !== null && RAW_JSON_METHODS.has(key)) reportRawJson(ctx, property, `JSON.${key}`);
  }
}

/** One `switchyard/no-raw-json` diagnostic. */
function reportRawJson(ctx: Deno.lint.RuleContext, node: Deno.lint.Node, what: string): void {
  ctx.report({
    node,
    message: RAW_JSON_MESSAGE,
    hint: `\`${what}\` is banned on the hot path (src/adapter, src/conductor, src/dispatcher); ` +
      "decode and encode through src/codec, which runs the measured engine per message shape",
  });
}

/** Reports `node` when `specifier` names a banned WebSocket library. */
function checkSpecifier(
  ctx: Deno.lint.RuleContext,
  node: Deno.lint.Node,
  specifier: string | null,
): void {
  if (specifier === null) return;
  const name = bannedWebSocketPackage(specifier);
  if (name === null) return;
  const what = specifier === name
    ? `"${name}" is a third-party WebSocket library`
    : `"${specifier}" imports the third-party WebSocket library "${name}"`;
  ctx.report({
    node,
    message: WEBSOCKET_MESSAGE,
    hint: `${what}; code under src/ uses the built-in WebSocket and Deno.upgradeWebSocket`,
  });
}

/** Whether a call's callee is a CommonJS `require` (`require`, `module.require`, `createRequire(...)`). */
function isRequireCallee(callee: Deno.lint.Expression): boolean {
  const expression = unwrapTypeScript(callee);
  if (expression.type === "Identifier") return expression.name === "require";
  if (expression.type === "MemberExpression") return memberName(expression) === "require";
  if (expression.type === "CallExpression") {
    const inner = unwrapTypeScript(expression.callee);
    return inner.type === "Identifier" && inner.name === "createRequire";
  }
  return false;
}

const noThirdPartyWebSocket: Deno.lint.Rule = {
  create(ctx) {
    if (!isUnderSource(ctx.filename)) return {};
    return {
      ImportDeclaration(node) {
        checkSpecifier(ctx, node.source, node.source.value);
      },
      ExportAllDeclaration(node) {
        checkSpecifier(ctx, node.source, node.source.value);
      },
      ExportNamedDeclaration(node) {
        if (node.source !== null) checkSpecifier(ctx, node.source, node.source.value);
      },
      ImportExpression(node) {
        checkSpecifier(ctx, node.source, staticString(node.source));
      },
      TSExternalModuleReference(node) {
        checkSpecifier(ctx, node.expression, node.expression.value);
      },
      TSImportType(node) {
        if (node.argument.type !== "TSLiteralType") return;
        checkSpecifier(ctx, node.argument, staticString(node.argument.literal));
      },
      CallExpression(node) {
        const first = node.arguments[0];
        if (first === undefined || first.type === "SpreadElement") return;
        if (!isRequireCallee(node.callee)) return;
        checkSpecifier(ctx, first, staticString(first));
      },
    };
  },
};

const noRawJson: Deno.lint.Rule = {
  create(ctx) {
    if (!isOnHotPath(ctx.filename)) return {};
    return {
      // Member access, not only calls: `JSON.parse(x)`, `lines.map(JSON.parse)` and
      // `JSON.stringify.call(null, x)` all reach the raw engine.
      MemberExpression(node) {
        const name = memberName(node);
        if (name === null || !RAW_JSON_METHODS.has(name)) return;
        if (!isJsonObject(node.object)) return;
        reportRawJson(ctx, node, `JSON.${name}`);
      },
      VariableDeclarator(node) {
        if (node.id.type !== "ObjectPattern" || node.init === null) return;
        reportJsonDestructuring(ctx, node.id, node.init);
      },
      AssignmentExpression(node) {
        const left: Deno.lint.Node = node.left;
        if (left.type !== "ObjectPattern") return;
        reportJsonDestructuring(ctx, left, node.right);
      },
    };
  },
};

/**
 * The `switchyard` lint plugin (rules `switchyard/no-third-party-websocket` and
 * `switchyard/no-raw-json`). deno.json loads it through `"lint": {"plugins": [...]}`.
 */
const libraryDiscipline = {
  name: "switchyard",
  rules: {
    "no-third-party-websocket": noThirdPartyWebSocket,
    "no-raw-json": noRawJson,
  },
} satisfies Deno.lint.Plugin;

export default libraryDiscipline;
