// uvu's suite, but a hook that throws is not lost. uvu drops such an error: a `before` that fails leaves its
// tests counted as failed with no message, an `after` that fails passes unnoticed. tests/run.ts resolves the
// test files' `import { suite } from 'uvu'` to this module, and reports and counts what `hookErrors` holds.
import { suite as uvuSuite, type Callback, type Test } from 'uvu'

export type HookError = { suite: string; hook: 'before' | 'after'; error: unknown }

/** Errors of hooks since the runner last emptied it. */
export const hookErrors: HookError[] = []

export function suite<T = Record<string, any>>(title = '', context?: T): Test<T> {
  const test = uvuSuite<T>(title, context)
  const kept = (hook: HookError['hook'], fn: Callback<T>): Callback<T> => async (ctx) => {
    try {
      await fn(ctx)
    } catch (error) {
      hookErrors.push({ suite: title, hook, error })
      throw error
    }
  }
  // The .each hooks run inside a test's own try: uvu reports their errors as that test's.
  const { before, after } = test
  test.before = Object.assign((fn: Callback<T>) => before(kept('before', fn)), { each: before.each })
  test.after = Object.assign((fn: Callback<T>) => after(kept('after', fn)), { each: after.each })
  return test
}
