// The agent reaches each debug pod once: one exec writes agent.sh into a private directory of the
// debug container (its own mount namespace), checked against its SHA-256, and every later exec is
// a short `sh PATH OP ARGS...`. Before this, each exec carried the whole script in its URL, and API
// server audit logs record request URIs in full (67-88 KB per exec).
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import type { ExecResult } from '../kube/exec-stream.ts';
import { readAgentSource } from './agent-source.ts';
import type { AgentExec } from './agent-ops.ts';

/** The debug container's directory for the agent: made by the install, mode 700. */
export const AGENT_DIR = '/tmp/kubectl-netns';

/**
 * The installer, run as `sh -c INSTALL_SCRIPT kubectl-netns-install DIR NAME SIZE SHA256` with the
 * script's SIZE bytes on stdin. POSIX sh (busybox ash, dash) with head, sha256sum, stat and id,
 * which busybox and coreutils both have. DIR must be a real directory of ours with mode 700 (made
 * here if missing): a symlink, another owner or a looser mode is refused, never followed. The
 * script goes into a temporary name, is checked, and only then renamed to NAME, so a reader never
 * sees half of it; an agent already there with the same digest is kept (a second install is a
 * no-op). Failures: one line "kubectl-netns-agent: error: INSTALL_FAILED: ..." and exit 79.
 */
export const INSTALL_SCRIPT = [
  'set -u',
  'umask 077',
  `fail() { printf 'kubectl-netns-agent: error: INSTALL_FAILED: %s\\n' "$1" >&2; exit 79; }`,
  '[ $# -eq 4 ] || fail "usage: DIR NAME SIZE SHA256"',
  'd=$1 f=$1/$2 size=$3 sum=$4',
  `case $size in '' | *[!0-9]*) fail "bad size '$size'" ;; esac`,
  `case $sum in *[!0-9a-f]*) fail "bad digest '$sum'" ;; esac`,
  '[ ${#sum} -eq 64 ] || fail "bad digest \'$sum\'"',
  'command -v sha256sum >/dev/null 2>&1 || fail "the debug image has no sha256sum"',
  'command -v head >/dev/null 2>&1 || fail "the debug image has no head"',
  'mkdir -m 700 "$d" 2>/dev/null',
  '[ -d "$d" ] && [ ! -h "$d" ] || fail "$d is not a directory"',
  'own="$(id -u) 700"',
  'got=$(stat -c \'%u %a\' "$d" 2>/dev/null)',
  '[ "$got" = "$own" ] || fail "$d is not private (owner and mode $got, want $own)"',
  'digest() { sha256sum "$1" 2>/dev/null | cut -c1-64; }',
  'if [ -f "$f" ] && [ ! -h "$f" ] && [ "$(digest "$f")" = "$sum" ]; then exit 0; fi',
  't=$d/.$2.$$',
  'rm -f "$t"',
  'head -c "$size" >"$t" || fail "cannot write $t"',
  'n=$(wc -c <"$t" | tr -d " ")',
  'if [ "$(digest "$t")" != "$sum" ]; then rm -f "$t"; fail "the agent arrived damaged ($n of $size bytes, digest differs)"; fi',
  'mv -f "$t" "$f" || fail "cannot rename $t to $f"',
].join('\n');

/** $0 of the installer: what ps on the node shows for it. */
const INSTALL_ARGV0 = 'kubectl-netns-install';

let script: string | undefined;

/** The agent's POSIX sh source, read once. */
export function agentScript(): string {
  script ??= readAgentSource();
  return script;
}

let installed: { path: string; name: string; size: number; sha256: string } | undefined;

/** Where the agent lives in a debug pod, named by its digest (so two versions never share a path). */
function agentFile(): { path: string; name: string; size: number; sha256: string } {
  if (!installed) {
    const bytes = Buffer.from(agentScript(), 'utf8');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const name = `agent-${sha256.slice(0, 16)}.sh`;
    installed = { path: `${AGENT_DIR}/${name}`, name, size: bytes.length, sha256 };
  }
  return installed;
}

/** The agent's path in the debug pod, the word after `sh` in every agent exec. */
export function agentPath(): string {
  return agentFile().path;
}

/** The installer's argv; the script itself goes on its stdin (see installAgent). */
export function installArgv(): string[] {
  const a = agentFile();
  return ['sh', '-c', INSTALL_SCRIPT, INSTALL_ARGV0, AGENT_DIR, a.name, String(a.size), a.sha256];
}

/**
 * Runs the installer once in the debug pod: resolves with its exit status and stderr. Rejects
 * when the exec itself could not start (e.g. the container does not run yet), like any exec.
 */
export async function installAgent(agent: AgentExec, signal?: AbortSignal): Promise<ExecResult & { stderr: string }> {
  let stderr = '';
  const result = await agent.exec(installArgv(), {
    stdin: Readable.from([Buffer.from(agentScript(), 'utf8')]),
    stdout: new Writable({ write: (_c, _e, cb) => cb() }),
    stderr: new Writable({
      write(chunk: Buffer, _e, cb) {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
        cb();
      },
    }),
    signal,
  });
  return { ...result, stderr };
}
