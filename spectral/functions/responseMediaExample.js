// Every response, whatever its status and wherever it is defined (an operation or
// components.responses), shows an example of each media type it can answer with; the
// docs, mock servers and SDK tests all read them. Given: a response object.
export default function responseMediaExample(response, _options, { path }) {
  const results = [];
  for (const [mediaType, media] of Object.entries(response?.content ?? {})) {
    const hasExample = media?.example !== undefined || Object.keys(media?.examples ?? {}).length > 0;
    if (!hasExample) {
      results.push({ message: `The ${mediaType} answer has no example.`, path: [...path, 'content', mediaType] });
    }
  }
  return results;
}
