// Every list operation pages with `limit` and `cursor` query parameters and answers with
// `next_cursor`. A GET is a list operation when its operationId starts with `list` or its
// 200 JSON body has an `items` array. Given: a path item.
export default function listPagination(pathItem, _options, { path }) {
  const operation = pathItem?.get;
  if (!operation) return [];
  const body = operation.responses?.['200']?.content?.['application/json']?.schema;
  const returnsItems = body?.properties?.items?.type === 'array';
  if (!String(operation.operationId ?? '').startsWith('list') && !returnsItems) return [];

  const results = [];
  const where = `GET ${path[path.length - 1]}`;
  const parameters = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])];
  for (const name of ['limit', 'cursor']) {
    if (!parameters.some((p) => p?.in === 'query' && p?.name === name)) {
      results.push({ message: `${where} lists items but takes no \`${name}\` query parameter.`, path: [...path, 'get'] });
    }
  }
  if (!body?.properties?.next_cursor) {
    results.push({
      message: `${where} lists items but its 200 response has no \`next_cursor\`.`,
      path: [...path, 'get', 'responses', '200'],
    });
  }
  return results;
}
