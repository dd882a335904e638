/** Resolves once `condition` holds; fails with `message` after `withinMs`. Polls every 20 ms. */
export async function waitFor(condition: () => boolean | Promise<boolean>, withinMs: number, message: string): Promise<void> {
  const deadline = performance.now() + withinMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(message)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
