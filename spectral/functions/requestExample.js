// Every operation shows a complete request: each request body media type has an example,
// and x-codeSamples holds a curl command that uses the operation's method and path (so a
// sample cannot silently drift from the contract), one sample per language, labelled with
// its language. Given: an operation object; its parameters' examples are checked by the
// parameter-example rule.
export default function requestExample(operation, _options, { path }) {
  const [, route, method] = path.slice(-3);
  const results = [];

  for (const [mediaType, media] of Object.entries(operation?.requestBody?.content ?? {})) {
    if (!hasExample(media)) {
      results.push({
        message: `The ${mediaType} request body has no example.`,
        path: [...path, 'requestBody', 'content', mediaType],
      });
    }
  }

  const samples = operation?.['x-codeSamples'] ?? [];
  // Redoc files code samples under their label and shows one per label: a label other
  // than the language, or a second sample in one language, would not be shown.
  const seen = new Set();
  samples.forEach((sample, i) => {
    const lang = String(sample?.lang ?? '').toLowerCase();
    const label = sample?.label === undefined ? lang : String(sample.label).toLowerCase();
    const where = [...path, 'x-codeSamples', i];
    if (label !== lang) {
      results.push({
        message: `x-codeSamples entry ${i + 1} is labelled "${sample.label}", not "${sample.lang}": the docs would not show it.`,
        path: where,
      });
    } else if (seen.has(lang)) {
      results.push({
        message: `x-codeSamples has a second ${sample.lang} sample; the docs show only the first, so put both commands in one.`,
        path: where,
      });
    }
    seen.add(lang);
  });
  const curl = samples.filter((s) => /^(curl|shell|bash|sh)$/i.test(String(s?.lang)));
  if (curl.length === 0) {
    results.push({ message: 'The operation has no curl request example in x-codeSamples.', path });
    return results;
  }
  const url = new RegExp(
    route
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join(`[^/?\\s'"]+`) + `(?=[?'"\\s]|$)`,
  );
  curl.forEach((sample, i) => {
    const source = String(sample?.source ?? '');
    const where = [...path, 'x-codeSamples', samples.indexOf(sample)];
    if (!url.test(source)) {
      results.push({ message: `curl example ${i + 1} does not call ${route}.`, path: where });
    }
    const explicit = /(?:-X|--request)\s+([A-Z]+)/.exec(source)?.[1];
    const used = explicit ?? (/\s(-d|--data\S*|-F|--form)\s/.test(source) ? 'POST' : 'GET');
    if (used !== method.toUpperCase()) {
      results.push({ message: `curl example ${i + 1} sends ${used}, not ${method.toUpperCase()}.`, path: where });
    }
  });
  return results;
}

function hasExample(media) {
  return media?.example !== undefined || Object.keys(media?.examples ?? {}).length > 0;
}
