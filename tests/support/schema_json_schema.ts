/**
 * Loads the published JSON Schema files (docs/schema/*.schema.json) into Ajv (draft 2020-12) for
 * the schema tests, so every wire object the code produces is checked against what clients in
 * other languages validate with.
 *
 * @module
 */

import { Ajv2020 } from "ajv/dist/2020.js";
import assert from "node:assert/strict";

const SCHEMA_DIR = new URL("../../docs/schema/", import.meta.url);

/** The four published schema files. */
export const SCHEMA_FILES = ["event", "merged", "exec_report", "control"] as const;

/** Name of one published schema file (without `.schema.json`). */
export type SchemaName = typeof SCHEMA_FILES[number];

/** A parsed schema document. */
export type SchemaDoc = Record<string, unknown>;

/** Reads one schema file. */
export function readSchema(name: SchemaName): SchemaDoc {
  // Test code, not the hot path: the codec's JSON rules do not apply here.
  return JSON.parse(Deno.readTextFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR)));
}

/** Compiled validators for the four files, strict Ajv (unknown keywords are errors). */
export class SchemaValidators {
  readonly #ajv = new Ajv2020({ strict: true, allErrors: true });
  readonly docs = new Map<SchemaName, SchemaDoc>();

  constructor() {
    for (const name of SCHEMA_FILES) {
      const doc = readSchema(name);
      this.docs.set(name, doc);
      this.#ajv.addSchema(doc);
    }
  }

  /** Null when `value` is valid against schema `name`, else Ajv's error text. */
  errors(name: SchemaName, value: unknown): string | null {
    const validate = this.#ajv.getSchema(`urn:switchyard:schema:v1:${name}`);
    assert.ok(validate, `schema ${name} not loaded`);
    return validate(value) ? null : this.#ajv.errorsText(validate.errors);
  }

  /** Asserts `value` is valid against schema `name`. */
  assertValid(name: SchemaName, value: unknown): void {
    assert.strictEqual(this.errors(name, value), null, `${name}: ${JSON.stringify(value)}`);
  }

  /** Asserts `value` is invalid against schema `name`. */
  assertInvalid(name: SchemaName, value: unknown): void {
    assert.notStrictEqual(
      this.errors(name, value),
      null,
      `${name} schema accepted ${JSON.stringify(value)}`,
    );
  }

  /** Asserts every key of `value` (recursively) is named by some `properties` in schema `name`. */
  assertDocumented(name: SchemaName, value: unknown): void {
    const documented = new Set<string>();
    collectPropertyNames(this.docs.get(name), documented);
    if (name === "merged") collectPropertyNames(this.docs.get("event"), documented);
    assertKeysIn(value, documented, name);
  }
}

function collectPropertyNames(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectPropertyNames(item, out);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  for (const [key, child] of Object.entries(node)) {
    if (key === "properties" && typeof child === "object" && child !== null) {
      for (const name of Object.keys(child)) out.add(name);
    }
    collectPropertyNames(child, out);
  }
}

function assertKeysIn(value: unknown, documented: Set<string>, name: string): void {
  if (Array.isArray(value)) {
    for (const item of value) assertKeysIn(item, documented, name);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    assert.ok(documented.has(key), `${name}: wire field "${key}" is not in the JSON Schema`);
    assertKeysIn(child, documented, name);
  }
}
