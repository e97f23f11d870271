import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { writeProjectConfig } from '../test-support/project.js'
import { CLI } from '../test-support/server-process.js'

const TSC = fileURLToPath(new URL('../../../../node_modules/typescript/bin/tsc', import.meta.url))

function run(file: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [file, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: stdout + stderr }),
    )
  })
}

describe('plinth typegen', () => {
  let t: TestApp
  let project: { file: string; remove(): void }
  beforeAll(async () => {
    t = await createTestApp('sqlite')
    const created = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: {
        name: 'orders',
        fields: [
          { name: 'quantity', type: 'number', required: true },
          { name: 'status', type: 'select', values: ['new', 'shipped'] },
          { name: 'tags', type: 'select', values: ['gift', 'rush'], maxSelect: 2 },
          { name: 'paid', type: 'bool' },
        ],
      },
    })
    expect(created.statusCode, created.body).toBe(201)
    project = writeProjectConfig('')
    writeFileSync(
      join(dirname(project.file), 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        include: ['*.ts'],
      }),
    )
    const out = join(dirname(project.file), 'plinth-types.d.ts')
    const generated = await run(CLI, ['typegen', '--dir', t.config.dataDir, '--out', out], {
      PLINTH_SECRET: t.config.secret ?? '',
    })
    expect(generated.code, generated.output).toBe(0)
  })
  afterAll(async () => {
    project?.remove()
    await t?.close()
  })

  test('writes each collection’s record type, and leaves out what never leaves the server', () => {
    const types = readFileSync(join(dirname(project.file), 'plinth-types.d.ts'), 'utf8')
    expect(types).toContain('quantity: number')
    expect(types).toContain(`status: "new" | "shipped" | ''`)
    expect(types).toContain('tags: Array<"gift" | "rush">')
    expect(types).toContain('paid: boolean')
    expect(types).not.toContain('_superusers')
  })

  test('hooks see the types: a right config compiles, a wrong field does not', async () => {
    const good = `import { defineConfig, HookError } from 'plinth'
export default defineConfig({
  hooks: {
    orders: {
      beforeCreate({ record }) {
        const doubled: number = record.quantity * 2
        if (doubled > 20 || record.status === 'shipped') throw new HookError(400, 'Too many')
      },
    },
  },
})
`
    writeFileSync(project.file, good)
    const compiled = await run(TSC, ['-p', dirname(project.file)])
    expect(compiled.code, compiled.output).toBe(0)
    writeFileSync(project.file, good.replace('record.quantity * 2', 'record.quantiy * 2'))
    const wrong = await run(TSC, ['-p', dirname(project.file)])
    expect(wrong.code).toBe(1)
    expect(wrong.output).toContain("Property 'quantiy' does not exist")
    // Two full runs of the TypeScript compiler take well over the default on a busy machine.
  }, 120_000)
})
