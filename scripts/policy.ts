// Writes into deploy/policy/debug-pod-policy.yaml what it pins of the debug pod, from the pod
// builder (src/kube/policy-pins.ts): run it after changing the debug pod's command or volumes.
//   node scripts/policy.ts          rewrite the generated block
//   node scripts/policy.ts --check  exit 1 when the file is out of date (the unit test does the same)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withPinnedBlock } from '../src/kube/policy-pins.ts';

const file = fileURLToPath(new URL('../deploy/policy/debug-pod-policy.yaml', import.meta.url));
const now = readFileSync(file, 'utf8');
const want = withPinnedBlock(now);
if (process.argv.includes('--check')) {
  if (now !== want) {
    process.stderr.write(`${file} is out of date: run node scripts/policy.ts\n`);
    process.exit(1);
  }
} else if (now !== want) {
  writeFileSync(file, want);
  process.stderr.write(`updated ${file}\n`);
}
