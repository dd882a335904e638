import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NODE, tempDir } from '../helpers/process.ts'

const test = suite('node version (child process)')
const ROOT = new URL('../../', import.meta.url).pathname
const SYSTEM_NODE = '/usr/bin/node'
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> }

// The machine's own Node.js, when it has one older than 24 (Debian's is 20): the tests that need it skip otherwise.
const oldMajor = existsSync(SYSTEM_NODE) ? Number(/^v(\d+)\./.exec(execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }))![1]) : null
const old = oldMajor !== null && oldMajor < 24 ? test : test.skip

function run(node: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(node, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => { output += d })
  child.stderr.on('data', (d) => { output += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(timer)
    resolve({ code, output })
  }))
}

/** A package.json script as node arguments: `node --flag src/x.js` → ['--flag', 'src/x.js']. */
const scriptArgs = (name: string) => {
  const [command, ...args] = pkg.scripts[name].split(' ')
  assert.is(command, 'node', pkg.scripts[name])
  return args
}

test('npm start and npm run backup go through the plain-JavaScript entries', () => {
  assert.is(scriptArgs('start').at(-1), 'src/main.js')
  assert.is(scriptArgs('backup').at(-1), 'src/backup-main.js')
})

old(`the server's entry on Node.js ${oldMajor} prints one line naming the version and npm start, and exits 1`, async () => {
  const tmp = tempDir()
  try {
    const { code, output } = await run(SYSTEM_NODE, [...scriptArgs('start'), '--port', '0', '--db', join(tmp.dir, 'd.db')])
    assert.is(code, 1)
    assert.match(output, new RegExp(`^docket needs Node\\.js 24 or newer \\(this is ${oldMajor}\\.\\d+\\.\\d+\\); run it with npm start, which uses the Node\\.js that npm install put in node_modules\\n$`))
  } finally {
    tmp.remove()
  }
})

old(`the backup's entry on Node.js ${oldMajor} prints one line naming npm run backup, and exits 1`, async () => {
  const { code, output } = await run(SYSTEM_NODE, [...scriptArgs('backup'), '--help'])
  assert.is(code, 1)
  assert.match(output, /^docket backup needs Node\.js 24 or newer \(this is [\d.]+\); run it with npm run backup, .*\n$/)
})

test('on Node.js 24 the entries run the server and the backup command with their arguments', async () => {
  assert.equal(await run(NODE, [...scriptArgs('start'), '--version']), { code: 0, output: `docket ${pkg.version}\n` })
  const backup = await run(NODE, [...scriptArgs('backup'), '--help'])
  assert.is(backup.code, 0)
  assert.match(backup.output, /^Usage: npm run backup/)
})

test.run()
