// Every enum-valued member of a response accepts values this version does not know:
// it is written `anyOf: [{$ref: <enum schema>}, {type: string}]`, so that a value added
// in a minor version decodes in every generated client while the enum schema keeps the
// known values as constants. Requests reference enum schemas directly (a server refuses
// an unknown value). A oneOf discriminator's single-value enum names the alternative and
// is exempt: a new kind is a new alternative. Given: the unresolved document root.
export default function responseEnumExtensible(doc) {
  const schemas = doc?.components?.schemas ?? {};
  const refName = (s) => (typeof s?.$ref === 'string' ? s.$ref.replace('#/components/schemas/', '') : '');
  const isEnum = (name) => Array.isArray(schemas[name]?.enum);
  const refsUnder = (node, out) => {
    if (Array.isArray(node)) node.forEach((c) => refsUnder(c, out));
    else if (node && typeof node === 'object') {
      const n = refName(node);
      if (n) out.push(n);
      for (const [k, c] of Object.entries(node)) if (k !== 'example' && k !== 'examples') refsUnder(c, out);
    }
    return out;
  };
  // The schemas a response can contain.
  const roots = refsUnder(doc?.components?.responses, []);
  for (const item of Object.values(doc?.paths ?? {})) {
    for (const op of Object.values(item ?? {})) refsUnder(op?.responses, roots);
  }
  const reachable = new Set();
  const visit = (n) => {
    if (reachable.has(n) || !schemas[n]) return;
    reachable.add(n);
    refsUnder(schemas[n], []).forEach(visit);
  };
  roots.forEach(visit);

  const exempt = new Set();
  for (const s of Object.values(schemas)) {
    const prop = s?.discriminator?.propertyName;
    if (prop) for (const alt of s.oneOf ?? []) exempt.add(`${refName(alt)}.${prop}`);
  }
  const enumValued = (s) => Array.isArray(s?.enum) || isEnum(refName(s)) || (s?.anyOf ?? []).some((a) => isEnum(refName(a)));
  const isOpen = (s) =>
    Array.isArray(s?.anyOf) && s.anyOf.length === 2 && isEnum(refName(s.anyOf[0])) &&
    s.anyOf[1]?.type === 'string' && Object.keys(s.anyOf[1]).length === 1;

  const results = [];
  for (const name of [...reachable].sort()) {
    for (const [prop, ps] of Object.entries(schemas[name]?.properties ?? {})) {
      if (exempt.has(`${name}.${prop}`)) continue;
      const [target, path] = ps?.type === 'array' && ps.items ? [ps.items, ['items']] : [ps, []];
      if (enumValued(target) && !isOpen(target)) {
        results.push({
          message: `${name}.${prop} is part of a response, so its enum must be extensible: anyOf: [{$ref: '#/components/schemas/<Enum>'}, {type: string}].`,
          path: ['components', 'schemas', name, 'properties', prop, ...path],
        });
      }
    }
  }
  return results;
}
