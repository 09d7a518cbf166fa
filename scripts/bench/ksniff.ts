// ksniff (`kubectl sniff`), the plugin people reach for first, as the third contender, built from
// the Go module proxy into the tools cache by scripts/tools/build.sh. When it cannot be built or
// cannot run offline, this section says exactly why, with the proxy's own words of the day.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { progress, type SectionResult } from './lib/section.ts';

/** Tries to build ksniff; returns its path, or the reasons it is missing. */
export function ksniffBench(root: string): SectionResult & { path: string | undefined } {
  progress('ksniff: building from the Go module proxy');
  const r = spawnSync('bash', [join(root, 'scripts/tools/build.sh'), 'ksniff'], { encoding: 'utf8', timeout: 600_000 });
  const path = r.status === 0 ? /^ksniff=(.*)$/m.exec(r.stdout)?.[1] : undefined;
  // The module's own path, asked of the proxy directly (go install above asks for the cmd package first).
  const list = spawnSync('curl', ['-sS', '-w', '\nHTTP %{http_code}', 'https://proxy.golang.org/github.com/eldadru/ksniff/@v/list'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const stderr = [(r.stderr ?? '').trim(), `$ curl https://proxy.golang.org/github.com/eldadru/ksniff/@v/list`, `${list.stdout}${list.stderr}`.trim()].join('\n');
  const markdown = [
    '## ksniff',
    '',
    path
      ? `Built at ${path}; not run: see below.`
      : 'Not measured: it cannot be built here. `scripts/tools/build.sh ksniff` said:',
    '',
    '```',
    stderr || '(nothing)',
    '```',
    '',
    'Even built, its privileged mode could not run on this cluster: on containerd it runs `crictl pull docker.io/maintained/tcpdump:latest`' +
      ' in its helper pod (`set -ex`, so a failed pull ends the capture) before `ctr run --with-ns network:…`, and the local cluster refuses every image pull by design' +
      ' (containerd\'s proxy points at a closed port on loopback); a pull of an image that is already imported still asks the registry. Its helper image' +
      ' (docker.io/hamravesh/ksniff-helper:v3, crictl and jq) and its non-privileged mode\'s static tcpdump (shipped only in its krew archive on GitHub) are not reachable either.',
  ].join('\n');
  return { markdown, data: { built: path !== undefined, path, stderr }, path };
}
