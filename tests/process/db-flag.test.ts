import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../helpers/process.ts'

const test = suite('--db and --pg-pool (child process)')

test('a bad --pg-pool or a malformed postgres URL exits 2 with the usage, never printing the password', async () => {
  const cases = [
    ['--db', 'postgres://docket:s3cret@db:notaport/work'],
    ['--db', 'postgres://docket:s3cret@db/work', '--pg-pool', '0'],
    ['--pg-pool', '10'],
  ]
  const exits = await Promise.all(cases.map((args) => runCli(args)))
  exits.forEach(({ code, output }, i) => {
    assert.is(code, 2, cases[i].join(' '))
    assert.match(output, /^docket: .*\nUsage:/)
    assert.not.match(output, 's3cret')
  })
  assert.match(exits[0].output, 'docket: --db: not a valid PostgreSQL URL')
  assert.match(exits[1].output, 'docket: --pg-pool must be an integer between 1 and 200, not 0')
  assert.match(exits[2].output, 'docket: --pg-pool applies to a PostgreSQL --db')
})

test('--help lists --db URLs and --pg-pool', async () => {
  const { code, output } = await runCli(['--help'])
  assert.is(code, 0)
  assert.match(output, /--db PATH\|URL .*postgres:\/\/user:pass@host:port\/db/)
  assert.match(output, /--pg-pool N +PostgreSQL connections of this node, 1\.\.200 \(default 10\)/)
})

test.run()
