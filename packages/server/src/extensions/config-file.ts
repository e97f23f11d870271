import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import {
  type BrokerConsumer,
  brokerConsumerProblem,
  duplicateConsumerProblem,
  eventKeyCollection,
  eventKeyProblem,
} from '../events/index.js'
import { HOOK_NAMES } from '../records/index.js'
import type { PlinthProjectConfig, RouteDefinition } from './define-config.js'

const CONFIG_FILE_NAMES = ['plinth.config.ts', 'plinth.config.mts', 'plinth.config.js', 'plinth.config.mjs']
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
const TOP_LEVEL_KEYS = new Set(['hooks', 'routes', 'jobs', 'cron', 'events', 'consumers'])

/** A project config that cannot be used, with the file and line to look at. */
export class ProjectConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    why: string,
  ) {
    super(`${displayPath(file)}${line ? `:${line}` : ''}: ${why}`)
    this.name = 'ProjectConfigError'
  }
}

/** The config file of the project in `dir`, if it has one. */
export function findConfigFile(dir: string): string | null {
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(dir, name)
    if (existsSync(path)) return path
  }
  return null
}

/**
 * Loads a `plinth.config.ts` (or .js/.mjs) without a build step and checks its shape
 * against the live collections, so a typo stops start-up instead of a hook that
 * never runs. Each load reads the file afresh (for reloads in development).
 */
export async function loadConfigFile(
  file: string,
  collectionExists: (name: string) => boolean,
): Promise<PlinthProjectConfig> {
  const path = isAbsolute(file) ? file : resolve(file)
  if (!existsSync(path)) throw new ProjectConfigError(path, null, 'the file does not exist')
  const { createJiti } = await import('jiti')
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false })
  let loaded: unknown
  try {
    loaded = await jiti.import(path, { default: true })
  } catch (error) {
    throw new ProjectConfigError(path, lineOfError(error, path), firstLine(error))
  }
  return checkConfig(path, loaded, collectionExists)
}

function checkConfig(
  path: string,
  config: unknown,
  collectionExists: (name: string) => boolean,
): PlinthProjectConfig {
  const source = readFileSync(path, 'utf8')
  const fail = (why: string, near?: string): never => {
    throw new ProjectConfigError(path, near ? lineOf(source, near) : null, why)
  }
  if (!isPlainObject(config)) fail('the default export must be defineConfig({ ... })')
  const project = config as Record<string, unknown>
  for (const key of Object.keys(project))
    if (!TOP_LEVEL_KEYS.has(key))
      fail(`unknown key "${key}" (expected ${[...TOP_LEVEL_KEYS].join(', ')})`, key)
  if (project.hooks !== undefined) {
    if (!isPlainObject(project.hooks)) fail('hooks must be an object of collections', 'hooks')
    for (const [collection, hooks] of Object.entries(project.hooks as Record<string, unknown>)) {
      if (collection !== '*' && !collectionExists(collection))
        fail(`hooks name the collection "${collection}", which does not exist`, collection)
      if (!isPlainObject(hooks)) fail(`hooks.${collection} must be an object of hooks`, collection)
      for (const [name, hook] of Object.entries(hooks as Record<string, unknown>)) {
        if (!(HOOK_NAMES as readonly string[]).includes(name))
          fail(`unknown hook "${name}" on "${collection}" (expected one of ${HOOK_NAMES.join(', ')})`, name)
        if (typeof hook !== 'function') fail(`hooks.${collection}.${name} must be a function`, name)
      }
    }
  }
  if (project.routes !== undefined) {
    if (!Array.isArray(project.routes)) fail('routes must be an array', 'routes')
    const seen = new Set<string>()
    for (const route of project.routes as unknown[]) {
      const {
        method,
        path: routePath,
        handler,
      } = (isPlainObject(route) ? route : {}) as Partial<RouteDefinition>
      const near = typeof routePath === 'string' ? routePath : 'routes'
      if (typeof method !== 'string' || !METHODS.has(method))
        fail(`a route needs a method, one of ${[...METHODS].join(', ')}`, near)
      if (typeof routePath !== 'string' || !routePath.startsWith('/'))
        fail('a route needs a path that starts with /', near)
      if (typeof handler !== 'function')
        fail(`the route ${method} ${routePath} needs a handler function`, near)
      const key = `${method} ${routePath}`
      if (seen.has(key)) fail(`the route ${key} is declared twice`, near)
      seen.add(key)
    }
  }
  const jobNames = new Set<string>()
  if (project.jobs !== undefined) {
    if (!isPlainObject(project.jobs)) fail('jobs must be an object of handlers by name', 'jobs')
    for (const [name, handler] of Object.entries(project.jobs as Record<string, unknown>)) {
      if (typeof handler !== 'function') fail(`the job "${name}" must be a function`, name)
      jobNames.add(name)
    }
  }
  if (project.cron !== undefined) {
    if (!Array.isArray(project.cron)) fail('cron must be an array of schedules', 'cron')
    for (const entry of project.cron as unknown[]) {
      const { name, schedule, job } = (isPlainObject(entry) ? entry : {}) as Record<string, unknown>
      const near = typeof name === 'string' ? name : 'cron'
      if (typeof name !== 'string' || name === '') fail('a cron schedule needs a name', near)
      if (typeof schedule !== 'string') fail(`the cron schedule "${name}" needs a schedule expression`, near)
      if (typeof job !== 'string' || !jobNames.has(job))
        fail(`the cron schedule "${name}" names the job "${String(job)}", which jobs does not define`, near)
    }
  }
  if (project.events !== undefined) {
    if (!isPlainObject(project.events))
      fail('events must be an object of handlers by "<collection>.<action>"', 'events')
    for (const [key, handler] of Object.entries(project.events as Record<string, unknown>)) {
      const problem = eventKeyProblem(key)
      if (problem) fail(`events: ${problem}`, key)
      const collection = eventKeyCollection(key)
      if (collection !== '*' && !collectionExists(collection))
        fail(`events name the collection "${collection}", which does not exist`, key)
      if (typeof handler !== 'function') fail(`the event handler "${key}" must be a function`, key)
    }
  }
  if (project.consumers !== undefined) {
    if (!Array.isArray(project.consumers)) fail('consumers must be an array', 'consumers')
    for (const entry of project.consumers as unknown[]) {
      const problem = brokerConsumerProblem(entry, (name) => jobNames.has(name))
      if (problem) fail(`consumers: ${problem.why}`, problem.near ?? 'consumers')
    }
    const duplicate = duplicateConsumerProblem(project.consumers as BrokerConsumer[])
    if (duplicate) fail(`consumers: ${duplicate}`, 'consumers')
  }
  return project as PlinthProjectConfig
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** The first line that names `text` as a key or a string, for pointing at a mistake. */
function lineOf(source: string, text: string): number | null {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = new RegExp(`(^|[^\\w$])(['"\`]?)${escaped}\\2\\s*[:(,]|['"\`]${escaped}['"\`]`)
  const lines = source.split('\n')
  const index = lines.findIndex((line) => pattern.test(line))
  return index < 0 ? null : index + 1
}

/** Where a load error points in the config file itself (a syntax error, a throw at the top). */
function lineOfError(error: unknown, path: string): number | null {
  const text = `${(error as Error)?.message ?? ''}\n${(error as Error)?.stack ?? ''}`
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`${escaped}:(\\d+)`).exec(text)
  return match ? Number(match[1]) : null
}

function firstLine(error: unknown): string {
  const message = (error as Error)?.message ?? String(error)
  return message.split('\n')[0]!.trim()
}

function displayPath(file: string): string {
  const shown = relative(process.cwd(), file)
  return shown.startsWith('..') ? file : shown
}
