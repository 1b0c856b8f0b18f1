// Every response documents the X-Request-Id header (header names compare
// case-insensitively, as in HTTP). Given: a response object.
export default function requestIdHeader(response, _options, { path }) {
  const headers = Object.keys(response?.headers ?? {}).map((h) => h.toLowerCase());
  if (headers.includes('x-request-id')) return [];
  return [{ message: `The ${path[path.length - 1]} response does not document the X-Request-Id header.`, path }];
}
