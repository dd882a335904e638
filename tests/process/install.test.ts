import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/process.ts'

// `npm ci` on the machine's own npm and Node.js, as on a fresh machine. A dry run builds the whole tree from the
// lockfile, engine checks included, offline and in well under a second.
const test = suite('install (system npm)')
const ROOT = new URL('../../', import.meta.url).pathname
const SYSTEM_NPM = '/usr/bin/npm'
const npm = existsSync(SYSTEM_NPM) ? test : test.skip

function dryRunCi(args: string[]): string {
  const tmp = tempDir()
  try {
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(ROOT, file), join(tmp.dir, file))
    // Only the system's node on PATH, and none of the npm_* settings of an `npm test` around us.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')))
    const run = spawnSync(SYSTEM_NPM, ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund', '--cache', join(tmp.dir, 'cache'), ...args], {
      cwd: tmp.dir, env: { ...env, PATH: '/usr/bin:/bin' }, encoding: 'utf8', timeout: 60_000,
    })
    assert.is(run.status, 0, run.stderr)
    return run.stdout + run.stderr
  } finally {
    tmp.remove()
  }
}

npm('a fresh npm ci prints no warnings', () => {
  assert.equal(dryRunCi([]).split('\n').filter((line) => line.startsWith('npm warn')), [])
})

npm('Docket itself declares no engines: what --loglevel warn shows is about dependencies only', () => {
  assert.not.match(dryRunCi(['--loglevel', 'warn']), /package: 'docket@/)
})

test.run()
