/**
 * The end of a one-shot harness run inside a namespace (packet-send, netlink-vip): runs the
 * mode named on the command line and prints its result as one JSON line for the test to
 * parse. An unknown mode exits 64, a failing one 1 with the message on stderr.
 */
export type Modes = Record<string, () => object | Promise<object>>;

export function runMode(harness: string, modes: Modes, name: string | undefined): void {
  const mode = modes[name ?? ''];
  if (mode === undefined) {
    process.stderr.write(`${harness}: unknown mode ${name}; one of ${Object.keys(modes).join(', ')}\n`);
    process.exitCode = 64;
    return;
  }
  Promise.resolve()
    .then(mode)
    .then(
      (out) => process.stdout.write(JSON.stringify(out) + '\n'),
      (e: unknown) => {
        process.stderr.write(`${harness}: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      },
    );
}
