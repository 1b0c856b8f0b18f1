// Every POST and PATCH (the state-changing methods that are not idempotent by
// themselves) takes an Idempotency-Key header, at the operation or the path level.
// Given: a path item. To exempt an operation that changes nothing, turn the rule off
// for it with an `overrides` entry in .spectral.yaml and say why.
const methods = ['post', 'patch'];

export default function idempotencyKey(pathItem, _options, { path }) {
  const results = [];
  for (const method of methods) {
    const operation = pathItem?.[method];
    if (!operation) continue;
    const parameters = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])];
    const hasKey = parameters.some((p) => p?.in === 'header' && String(p?.name).toLowerCase() === 'idempotency-key');
    if (!hasKey) {
      results.push({
        message: `${method.toUpperCase()} ${path[path.length - 1]} changes state but takes no Idempotency-Key header.`,
        path: [...path, method],
      });
    }
  }
  return results;
}
