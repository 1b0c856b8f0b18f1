// No anonymous object schemas: an object inside a schema, a parameter, a request or a
// response is a named component (free-form JSON objects share one), so that every
// generator, in every language, gives it the same name instead of inventing one such as
// `CreateSessionRequestMeta`. Given: the unresolved document root.
export default function noInlineObjectSchema(doc) {
  const results = [];
  // `{type: object, allOf: [{$ref}]}` (a described reference, typed so that diff tools see
  // the member's type unchanged) names its schema and is not anonymous.
  const namesOne = (s) => Array.isArray(s.allOf) && s.allOf.length === 1 && s.allOf[0]?.$ref && s.properties === undefined;
  const isObject = (s) => s && typeof s === 'object' && (s.type === 'object' || s.properties !== undefined) && !namesOne(s);
  const walk = (node, path, named) => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => walk(child, [...path, i], false));
      return;
    }
    if (!node || typeof node !== 'object') return;
    if (!named && isObject(node) && schemaContext(path)) {
      results.push({ message: 'Inline object schema: make it a named component under components.schemas.', path });
    }
    for (const [key, child] of Object.entries(node)) {
      if (key === 'example' || key === 'examples' || key.startsWith('x-')) continue;
      walk(child, [...path, key], false);
    }
  };
  // A node is a schema when the path reaches it through a schema keyword.
  const schemaContext = (path) =>
    path.some((p) => p === 'schema' || p === 'schemas' || p === 'properties' || p === 'items' ||
      p === 'allOf' || p === 'anyOf' || p === 'oneOf' || p === 'additionalProperties' || p === 'not');
  for (const [name, schema] of Object.entries(doc?.components?.schemas ?? {})) {
    walk(schema, ['components', 'schemas', name], true);
  }
  for (const section of ['paths']) walk(doc?.[section], [section], false);
  for (const section of ['parameters', 'requestBodies', 'responses', 'headers']) {
    walk(doc?.components?.[section], ['components', section], false);
  }
  return results;
}
