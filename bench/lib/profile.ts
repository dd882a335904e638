import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { REPO_ROOT } from './docket.ts'

// A V8 .cpuprofile (what node --cpu-prof writes): a call tree of nodes plus a sample stream.
type CallFrame = { functionName: string; url: string; lineNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] }
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export type ProfileEntry = { name: string; selfMs: number; selfPct: number; totalMs: number; totalPct: number }
export type ProfileSummary = { file: string; wallMs: number; busyMs: number; top: ProfileEntry[]; topSrc: ProfileEntry[] }

// Time V8 spent outside JS and native code: the event loop waiting. Busy time excludes it.
const IDLE = new Set(['(idle)'])

/** Self and inclusive time per function (summed over every place it appears in the tree), busiest first. */
export function summarizeProfile(file: string, limit = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  const selfUs = new Map<number, number>()
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let busyUs = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!
    const key = nameOf(node.callFrame)
    self.set(key, (self.get(key) ?? 0) + us)
    if (IDLE.has(node.callFrame.functionName)) continue
    busyUs += us
    // Inclusive: credit each distinct function on the stack once (recursion must not double-count).
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = nameOf(byId.get(at)!.callFrame)
      if (seen.has(k)) continue
      seen.add(k)
      total.set(k, (total.get(k) ?? 0) + us)
    }
  }
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0)
  const entries = [...total.entries()].map(([name, totalUs]) => {
    const selfUsOf = self.get(name) ?? 0
    return { name, selfMs: selfUsOf / 1000, selfPct: pct(selfUsOf), totalMs: totalUs / 1000, totalPct: pct(totalUs) }
  })
  const top = [...entries].sort((a, b) => b.selfMs - a.selfMs).slice(0, limit)
  // Docket's own functions by inclusive time: where each route's time goes (native SQLite and crypto calls
  // have no frame of their own: their time is the self time of the JS function that made them).
  const topSrc = entries.filter((e) => / src\//.test(e.name)).sort((a, b) => b.totalMs - a.totalMs).slice(0, limit)
  return { file, wallMs: (profile.endTime - profile.startTime) / 1000, busyMs: busyUs / 1000, top, topSrc }
}

export function formatProfile(s: ProfileSummary, label: string): string {
  const row = (e: ProfileEntry) => `  ${e.selfPct.toFixed(1).padStart(6)}  ${e.totalPct.toFixed(1).padStart(6)}  ${e.selfMs.toFixed(0).padStart(7)}  ${e.name}`
  return [
    `profile ${label}: ${relative(REPO_ROOT, s.file)} (wall ${s.wallMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms; % of busy)`,
    '   self%  total%  self ms  top self time', ...s.top.map(row),
    '   self%  total%  self ms  Docket functions by inclusive time', ...s.topSrc.map(row),
  ].join('\n')
}

function nameOf(f: CallFrame): string {
  const fn = f.functionName || '(anonymous)'
  if (f.url === '') return fn
  const path = f.url.startsWith('file://') ? relative(REPO_ROOT, new URL(f.url).pathname) : f.url
  return `${fn} ${path}:${f.lineNumber + 1}`
}
