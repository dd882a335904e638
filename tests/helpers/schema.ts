// Checks a JSON value against the subset of JSON Schema that openapi.json uses (type, enum, const,
// properties, required, additionalProperties, items, oneOf, allOf, $ref, minimum, maximum, minItems). Returns the problems found.
type Schema = Record<string, any>

export function schemaProblems(doc: Schema, schema: Schema, value: unknown, at = '$'): string[] {
  if (schema.$ref !== undefined) return schemaProblems(doc, resolveRef(doc, schema.$ref), value, at)
  if (schema.allOf !== undefined) return (schema.allOf as Schema[]).flatMap((s) => schemaProblems(doc, s, value, at))
  if (schema.oneOf !== undefined) {
    const matching = (schema.oneOf as Schema[]).filter((s) => schemaProblems(doc, s, value, at).length === 0)
    return matching.length === 1 ? [] : [`${at}: matches ${matching.length} of oneOf`]
  }
  const problems: string[] = []
  if (schema.type !== undefined) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type]
    if (!types.some((t) => isType(value, t))) return [`${at}: ${JSON.stringify(value)} is not ${types.join('|')}`]
  }
  if (schema.const !== undefined && value !== schema.const) problems.push(`${at}: not ${JSON.stringify(schema.const)}`)
  if (schema.enum !== undefined && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in enum`)
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: below minimum`)
  if (typeof value === 'number' && schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: above maximum`)
  if (Array.isArray(value) && schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${at}: too few items`)
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) => problems.push(...schemaProblems(doc, schema.items, item, `${at}[${i}]`)))
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (!(key in obj)) problems.push(`${at}: missing ${key}`)
    for (const [key, child] of Object.entries(obj)) {
      const sub = schema.properties?.[key]
      if (sub !== undefined) problems.push(...schemaProblems(doc, sub, child, `${at}.${key}`))
      else if (schema.additionalProperties === false) problems.push(`${at}: undocumented field ${key}`)
      else if (typeof schema.additionalProperties === 'object') problems.push(...schemaProblems(doc, schema.additionalProperties, child, `${at}.${key}`))
    }
  }
  return problems
}

export function resolveRef(doc: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`)
  let node: any = doc
  for (const part of ref.slice(2).split('/')) {
    node = node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')]
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`)
  }
  return node
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null': return value === null
    case 'array': return Array.isArray(value)
    case 'object': return value !== null && typeof value === 'object' && !Array.isArray(value)
    case 'integer': return Number.isInteger(value)
    case 'number': return typeof value === 'number'
    default: return typeof value === type
  }
}
