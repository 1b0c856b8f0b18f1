// Every operation documents at least one 4xx answer, and every 4xx/5xx answer it
// documents is an RFC 9457 problem document (application/problem+json with a schema).
// Given: an operation object.
export default function problemResponses(operation, _options, { path }) {
  const responses = operation?.responses ?? {};
  const results = [];
  const codes = Object.keys(responses);
  if (!codes.some((code) => /^4(\d\d|XX)$/i.test(code))) {
    results.push({ message: 'The operation documents no 4xx response.', path: [...path, 'responses'] });
  }
  for (const code of codes.filter((c) => /^[45](\d\d|XX)$/i.test(c))) {
    const content = responses[code]?.content ?? {};
    if (!content['application/problem+json']?.schema) {
      results.push({
        message: `The ${code} response is not an application/problem+json problem document.`,
        path: [...path, 'responses', code],
      });
    }
  }
  return results;
}
