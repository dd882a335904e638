// The console in a real browser: Debian's Chromium through playwright-core. Skipped, with a line saying so,
// when no Chromium is installed (CI installs it: .ci/run).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createTask, expectStatus, unique } from '../helpers/fixtures.ts'
import { chromiumPath, launchChromium, outputDir, type Chromium } from '../helpers/browser.ts'

const TOKEN = 'browser-test-token-0123456789'
const auth = { authorization: `Bearer ${TOKEN}` }
const executable = chromiumPath()

type Ctx = { s: TestServer; api: TestServer; chrome: Chromium }
const test = suite<Ctx>('console in a browser', {} as Ctx)

if (executable === null) {
  console.log('SKIPPED tests/browser/console.test.ts: no Chromium found (apt-get install chromium, or set DOCKET_CHROMIUM)')
} else {
  test.before(async (ctx) => {
    ctx.s = await startServer({ token: TOKEN })
    ctx.api = { ...ctx.s, request: (m, path, body, headers) => ctx.s.request(m, path, body, { ...auth, ...headers }) }
    ctx.chrome = await launchChromium(executable)
  })
  test.after(async (ctx) => {
    await ctx.chrome?.close()
    await ctx.s?.close()
  })

  test('log in, watch a new task appear on the overview, requeue a dead letter, screenshot every page', async ({ s, api, chrome }) => {
    const out = outputDir()
    const page = await chrome.context.newPage()
    const problems: string[] = []
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
    page.on('pageerror', (e) => problems.push(e.message))

    await page.goto(`${s.url}/ui/`)
    assert.is(new URL(page.url()).pathname, '/ui/login')
    await page.screenshot({ path: join(out, 'login.png') })
    await page.getByLabel('API token').fill(TOKEN)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL(`${s.url}/ui/`)
    await page.getByRole('heading', { name: 'Overview' }).waitFor()

    // A task created after the page loaded shows up by live refresh, without a reload.
    await page.evaluate(() => { (window as unknown as { loadedOnce: boolean }).loadedOnce = true })
    const role = unique('writer')
    const name = 'release-notes'
    const pipelineId = expectStatus(await api.request('POST', '/pipelines', { name, definition: {
      initial: 'draft',
      states: { draft: { agent_role: role }, review: { agent_role: unique('editor') }, published: { terminal: true }, shelved: { terminal: true } },
      transitions: [
        { from: 'draft', to: 'review', trigger: 'submit' }, { from: 'review', to: 'published', trigger: 'approve' },
        { from: 'review', to: 'draft', trigger: 'revise' }, { from: 'draft', to: 'shelved', trigger: 'drop' },
      ],
    } }), 201).body.id as string
    await createTask(api, pipelineId, { title: 'Write the release notes' })
    await page.getByRole('cell', { name, exact: true }).first().waitFor({ timeout: 15_000 })
    assert.ok(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce === true), 'the page was not reloaded')

    // A dead letter: one attempt allowed, and it fails.
    const doomed = await createTask(api, pipelineId, { title: 'Translate the manual', retry_policy: { max_attempts: 1 } })
    for (let i = 0; i < 2; i++) {
      const lease = (await claim(api, role))!
      const error = lease.task.id === doomed ? 'model refused: context too long' : null
      if (error === null) expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'submit', usage: { tokens: 1200 } }, { authorization: `Bearer ${lease.lease_token}` }), 200)
      else expectStatus(await s.request('POST', `/runs/${lease.run.id}/fail`, { error, usage: { tokens: 800 } }, { authorization: `Bearer ${lease.lease_token}` }), 200)
    }
    await createTask(api, pipelineId, { title: 'Check the links' })
    expectStatus(await api.request('PUT', '/store/notes/style', { value: { rule: 'Use the active voice in release notes' } }), 204)
    await page.reload()
    await page.screenshot({ path: join(out, 'overview.png'), fullPage: true })

    await page.getByRole('link', { name: 'Dead letters' }).click()
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor()
    await page.screenshot({ path: join(out, 'dead-letters.png'), fullPage: true })
    await page.getByRole('link', { name: 'Translate the manual' }).click()
    await page.getByRole('heading', { name: 'Translate the manual' }).waitFor()
    assert.ok(await page.getByText('model refused: context too long').first().isVisible())
    await page.screenshot({ path: join(out, 'task.png'), fullPage: true })
    await page.getByRole('button', { name: 'Requeue' }).click()
    await page.getByText('Task requeued.').waitFor()
    assert.is((await api.request('GET', `/tasks/${doomed}`)).body.dead_letter_reason, null)

    for (const [link, file] of [['Tasks', 'tasks.png'], ['Pipelines', 'pipelines.png'], ['Store', 'store.png']]) {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link }).click()
      await page.getByRole('heading', { name: link, exact: true }).waitFor()
      await page.screenshot({ path: join(out, file), fullPage: true })
    }
    assert.equal(problems, [], 'no script errors or CSP violations in the console')
  })
}

test.run()
