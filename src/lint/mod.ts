/**
 * Public entry of `src/lint`: the project's `deno lint` plugin (rules
 * `switchyard/no-third-party-websocket` and `switchyard/no-raw-json`) and the predicates it is
 * built from. deno.json loads `./src/lint/library_discipline.ts` directly as a plugin.
 *
 * @module
 */

export {
  BANNED_WEBSOCKET_PACKAGES,
  bannedWebSocketPackage,
  default as libraryDiscipline,
  HOT_PATH_FOLDERS,
  isOnHotPath,
  isUnderSource,
  RAW_JSON_MESSAGE,
  WEBSOCKET_MESSAGE,
} from "./library_discipline.ts";
