// Every parameter shows an example value (on the parameter or on its schema), so the
// generated request samples are realistic. Given: a parameter object.
export default function parameterExample(parameter, _options, { path }) {
  const has =
    parameter?.example !== undefined ||
    Object.keys(parameter?.examples ?? {}).length > 0 ||
    parameter?.schema?.example !== undefined;
  if (has) return [];
  return [{ message: `The ${parameter?.in} parameter ${parameter?.name} has no example.`, path }];
}
