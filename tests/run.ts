// Runs every tests/**/*.test.ts file (or those whose path contains an argument) with uvu, and ends with
// the line CI reads: "N passed, N failed".
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'

// uvu's `total` counts the tests that ran; skipped ones are only in `skipped`.
type Outcome = [errors: string | true, passed: number, skipped: number, total: number]
type Queue = Array<Array<string | null | (() => Promise<Outcome>)>>
const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: Queue; UVU_INDEX: number }

const root = new URL('.', import.meta.url).pathname
const filters = process.argv.slice(2)

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [])
}

const files = testFiles(root).sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
g.UVU_DEFER = 1
g.UVU_QUEUE = []
for (const [i, file] of files.entries()) {
  g.UVU_INDEX = i
  g.UVU_QUEUE.push([relative(root, file)])
  await import(pathToFileURL(file).href)
}

let passed = 0
let failed = 0
let skipped = 0
for (const group of g.UVU_QUEUE) {
  process.stdout.write(`${group.shift()}\n`)
  for (const suite of group as Array<() => Promise<Outcome>>) {
    const [errors, ok, notRun, total] = await suite()
    passed += ok
    failed += total - ok
    skipped += notRun
    if (typeof errors === 'string') process.stdout.write(`\n${errors}\n`)
  }
  process.stdout.write('\n')
}
if (skipped > 0) process.stdout.write(`\n${skipped} skipped`)
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exitCode = failed > 0 ? 1 : 0
