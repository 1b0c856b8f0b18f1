// Generates src/generated/openapi.ts from openapi.yaml with openapi-typescript's
// Node API (the CLI has no hook for what follows). Two choices beyond the defaults:
//
// - An open response enum, `anyOf: [{$ref: <Enum>}, {type: string}]`, becomes
//   `components["schemas"]["Enum"] | (string & {})` instead of the plain union
//   `string | Enum`, which TypeScript collapses to `string`: any value still
//   type-checks, and editors keep offering the known ones.
// - `enumValues`: every enum's values as a const array (`problemCodeValues`, ...),
//   so the SDK's constants come from the contract.
//
// Usage: node scripts/generate.mjs [OUT] (default src/generated/openapi.ts).
import fs from 'node:fs';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import ts from 'typescript';

const spec = new URL('../../../openapi.yaml', import.meta.url);
const out = process.argv[2] ?? new URL('../src/generated/openapi.ts', import.meta.url);

const schemaRef = /^components\["schemas"\]\["([^"]+)"\]$/;
// `string & {}`: not reducible to `string`, so a union with it keeps its literals.
const anyString = ts.factory.createIntersectionTypeNode([
  ts.factory.createKeywordTypeNode(ts.SyntaxKind.StringKeyword),
  ts.factory.createTypeLiteralNode([]),
]);

/** The enum schema name when `type` is `string | components["schemas"]["<an enum>"]`. */
function openEnumName(type, enums) {
  if (!ts.isUnionTypeNode(type) || type.types.length !== 2) return undefined;
  const str = type.types.find((t) => t.kind === ts.SyntaxKind.StringKeyword);
  const ref = type.types.find((t) => t !== str);
  if (!str || !ref || !ts.isIndexedAccessTypeNode(ref)) return undefined;
  const name = schemaRef.exec(astToString(ref).trim())?.[1];
  return name !== undefined && enums.has(name) ? name : undefined;
}

let enums = new Set();
let opened = 0;
const ast = await openapiTS(spec, {
  enumValues: true,
  postTransform(type, options) {
    if (enums.size === 0) {
      const schemas = options.ctx.resolve('#/components/schemas') ?? {};
      enums = new Set(Object.keys(schemas).filter((n) => Array.isArray(schemas[n]?.enum)));
    }
    const name = openEnumName(type, enums);
    if (name === undefined) return undefined;
    opened++;
    return ts.factory.createUnionTypeNode([type.types.find((t) => t.kind !== ts.SyntaxKind.StringKeyword), anyString]);
  },
});
if (opened === 0) throw new Error('no open enum (anyOf: [<Enum>, string]) found: has the contract or openapi-typescript changed?');
fs.writeFileSync(out, COMMENT_HEADER + astToString(ast), 'utf8');
