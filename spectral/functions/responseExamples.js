// Every success (2xx) response shows an example of each media type it can answer with,
// including text/event-stream. Given: an operation object.
export default function responseExamples(operation, _options, { path }) {
  const results = [];
  for (const [code, response] of Object.entries(operation?.responses ?? {})) {
    if (!/^2(\d\d|XX)$/i.test(code)) continue;
    for (const [mediaType, media] of Object.entries(response?.content ?? {})) {
      const hasExample = media?.example !== undefined || Object.keys(media?.examples ?? {}).length > 0;
      if (!hasExample) {
        results.push({
          message: `The ${code} ${mediaType} response has no example.`,
          path: [...path, 'responses', code, 'content', mediaType],
        });
      }
    }
  }
  return results;
}
