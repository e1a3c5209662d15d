// openapi_check.mjs -- a small validator for the subset of OpenAPI 3.0 /
// JSON Schema that /api/v1/openapi.json uses: type (object, array, string,
// number, integer, boolean), nullable, required, properties, items, enum,
// pattern, minimum / maximum, minItems / maxItems and $ref to
// #/components/schemas.  validate() returns a list of "path: why" errors
// (empty = valid).  An unknown keyword in the document is an error, so the
// validator cannot silently check less than the document says.
const KNOWN = new Set(['type', 'nullable', 'required', 'properties', 'items', 'enum', 'pattern',
  'minimum', 'maximum', 'minItems', 'maxItems', '$ref', 'description']);

export function validate(doc, schema, value, path = '$', errs = []) {
  for (const k of Object.keys(schema))
    if (!KNOWN.has(k)) errs.push(`${path}: schema keyword '${k}' not supported by the validator`);
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) { errs.push(`${path}: unresolved ${schema.$ref}`); return errs; }
    return validate(doc, target, value, path, errs);
  }
  if (value === null) {
    if (!schema.nullable) errs.push(`${path}: null but not nullable`);
    return errs;
  }
  const t = schema.type;
  const is = {
    object: (v) => typeof v === 'object' && !Array.isArray(v),
    array: Array.isArray,
    string: (v) => typeof v === 'string',
    number: (v) => typeof v === 'number' && Number.isFinite(v),
    integer: (v) => Number.isInteger(v),
    boolean: (v) => typeof v === 'boolean',
  };
  if (t && !is[t]) { errs.push(`${path}: unknown type ${t}`); return errs; }
  if (t && !is[t](value)) { errs.push(`${path}: want ${t}, got ${JSON.stringify(value)?.slice(0, 60)}`); return errs; }
  if (schema.enum && !schema.enum.includes(value)) errs.push(`${path}: ${value} not in ${schema.enum}`);
  if (schema.pattern && !new RegExp(schema.pattern).test(value)) errs.push(`${path}: '${value}' does not match ${schema.pattern}`);
  if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${path}: below ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${path}: above ${schema.maximum}`);
  if (t === 'object') {
    for (const r of schema.required ?? []) if (!(r in value)) errs.push(`${path}: missing '${r}'`);
    for (const [k, s] of Object.entries(schema.properties ?? {}))
      if (k in value) validate(doc, s, value[k], `${path}.${k}`, errs);
  }
  if (t === 'array') {
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => validate(doc, schema.items, v, `${path}[${i}]`, errs));
  }
  return errs;
}

// The schema of the answer to METHOD path with status (the documented
// response), or undefined when the document does not list that status.
export function responseSchema(doc, method, path, status) {
  const op = doc.paths[path]?.[method.toLowerCase()];
  return op?.responses?.[String(status)]?.content?.['application/json']?.schema;
}
