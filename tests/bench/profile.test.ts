import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { summarizeProfile } from '../../bench/lib/profile.ts'

const test = suite('bench profile summary')

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' })

/** root → handler → (query, serialize); idle beside it. Samples: 3 in query, 1 in serialize, 1 in handler, 5 idle. */
function writeProfile(dir: string): string {
  const file = join(dir, 'test.cpuprofile')
  const nodes = [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('handler', 'file:///x/src/http/routes/leases.ts'), children: [3, 4] },
    { id: 3, callFrame: frame('query', 'file:///x/src/store/sqlite/leases.ts') },
    { id: 4, callFrame: frame('serialize') },
    { id: 5, callFrame: frame('(idle)') },
  ]
  const samples = [3, 3, 3, 4, 2, 5, 5, 5, 5, 5]
  writeFileSync(file, JSON.stringify({ nodes, samples, timeDeltas: samples.map(() => 1000), startTime: 0, endTime: 10_000 }))
  return file
}

test('self time is summed per function and idle time is left out of busy time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'))
  try {
    const s = summarizeProfile(writeProfile(dir))
    assert.is(s.busyMs, 5)
    assert.is(s.top[0].name.split(' ')[0], 'query')
    assert.is(s.top[0].selfMs, 3)
    assert.is(s.top[0].selfPct, 60)
    assert.not.ok(s.top.some((e) => e.name === '(idle)'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('inclusive time credits every caller on the stack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'))
  try {
    const handler = summarizeProfile(writeProfile(dir)).top.find((e) => e.name.startsWith('handler'))!
    assert.is(handler.selfMs, 1)
    assert.is(handler.totalMs, 5)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
