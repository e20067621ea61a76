// Reads every .tf file under infra/ with @cdktf/hcl2json (blocks come out as arrays; one file at a time,
// since convertFiles does not recurse into modules) so the static tier can check facts without terraform.
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from '@cdktf/hcl2json'

export const INFRA_DIR = fileURLToPath(new URL('../../infra/', import.meta.url))
export const MODULES = ['cognito', 'storage', 'keys', 'function', 'api'] as const
export type ModuleName = typeof MODULES[number]

export type Hcl = Record<string, unknown>

/** One configuration directory (the root or a module), its files merged the way Terraform merges them. */
export interface TfConfig {
  dir: string
  files: string[]
  variables: Record<string, Hcl>
  outputs: Record<string, Hcl>
  locals: Hcl
  resources: Record<string, Record<string, Hcl>>
  terraform: Hcl[]
}

const isRecord = (v: unknown): v is Hcl => typeof v === 'object' && v !== null && !Array.isArray(v)

/** hcl2json wraps each block in an array; terraform-style configs have exactly one body per label. */
export function body (v: unknown): Hcl {
  const b = Array.isArray(v) ? v[0] : v
  if (!isRecord(b)) throw new Error(`expected a block, got ${JSON.stringify(v)}`)
  return b
}

export async function loadConfig (dir: string): Promise<TfConfig> {
  const names = (await readdir(dir)).filter(n => n.endsWith('.tf')).sort()
  const config: TfConfig = { dir: relative(INFRA_DIR, dir) || '.', files: names, variables: {}, outputs: {}, locals: {}, resources: {}, terraform: [] }
  for (const name of names) {
    const parsed = await parse(name, await readFile(join(dir, name), 'utf8')) as Hcl
    for (const [k, v] of Object.entries((parsed.variable ?? {}) as Hcl)) config.variables[k] = body(v)
    for (const [k, v] of Object.entries((parsed.output ?? {}) as Hcl)) config.outputs[k] = body(v)
    for (const l of (parsed.locals ?? []) as Hcl[]) Object.assign(config.locals, l)
    for (const [type, byName] of Object.entries((parsed.resource ?? {}) as Hcl)) {
      config.resources[type] ??= {}
      for (const [n, v] of Object.entries(byName as Hcl)) config.resources[type][n] = body(v)
    }
    config.terraform.push(...((parsed.terraform ?? []) as Hcl[]))
  }
  return config
}

export async function loadAll (): Promise<{ root: TfConfig, modules: Record<ModuleName, TfConfig> }> {
  const root = await loadConfig(INFRA_DIR)
  const modules = {} as Record<ModuleName, TfConfig>
  for (const m of MODULES) modules[m] = await loadConfig(join(INFRA_DIR, 'modules', m))
  return { root, modules }
}

export function resource (config: TfConfig, type: string, name: string): Hcl {
  const r = config.resources[type]?.[name]
  if (r === undefined) throw new Error(`${config.dir}: no resource ${type}.${name}`)
  return r
}

/** Every IAM-style statement (an object with Action or Resource) anywhere in the value. */
export function statements (value: unknown, found: Hcl[] = []): Hcl[] {
  if (Array.isArray(value)) for (const v of value) statements(v, found)
  else if (isRecord(value)) {
    if ('Action' in value || 'Resource' in value || 'actions' in value || 'resources' in value) found.push(value)
    for (const v of Object.values(value)) statements(v, found)
  }
  return found
}

/** The literal strings of an HCL list that may also be a local reference or a single value. */
export function strings (value: unknown, locals: Hcl = {}): string[] {
  if (typeof value === 'string') {
    const ref = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(value)
    if (ref?.[1] !== undefined && ref[1] in locals) return strings(locals[ref[1]], locals)
    return [value]
  }
  if (Array.isArray(value)) return value.flatMap(v => strings(v, locals))
  return []
}

/** True when a version constraint such as ">= 5.80, < 7.0" admits the version. */
export function admits (constraint: string, version: string): boolean {
  const num = (v: string) => v.split('.').map(Number).concat([0, 0, 0]).slice(0, 3) as [number, number, number]
  const cmp = (a: string, b: string) => {
    const [x, y] = [num(a), num(b)]
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number)
    return 0
  }
  return constraint.split(',').map(s => s.trim()).every(part => {
    const m = /^(>=|<=|>|<|=|!=|~>)?\s*([0-9.]+)$/.exec(part)
    if (m === null) return false
    const [, op = '=', v = ''] = m
    const c = cmp(version, v)
    switch (op) {
      case '>=': return c >= 0
      case '<=': return c <= 0
      case '>': return c > 0
      case '<': return c < 0
      case '!=': return c !== 0
      case '~>': {
        const parts = v.split('.')
        const upper = parts.length > 1 ? [...parts.slice(0, -2), String(Number(parts[parts.length - 2]) + 1)].join('.') : String(Number(parts[0]) + 1)
        return c >= 0 && cmp(version, upper) < 0
      }
      default: return c === 0
    }
  })
}
