// `npm run release`: the single executables, their archives and the krew manifest, from the
// checked-out commit. Steps: bundle → SEA blob → one executable per target (darwin ones ad-hoc
// signed) → kubectl-netns_<version>_<os>_<arch>.tar.gz → netns.yaml and SHA256SUMS. Everything goes
// under --out (default release/, ignored by git; not under dist/, which every build empties), which
// is emptied first unless it holds something other than an earlier release. stdout: one
// `sha256  file` line per artifact (SHA256SUMS' content); stderr: progress.
//
// Usage: node scripts/release/main.ts [--out DIR] [--base-url URL] [--targets linux_amd64,...]
//                                     [--unsigned-darwin]
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeArchive, type ArchiveEntry } from './archive.ts';
import { ROOT, sourceInfo } from './build-info.ts';
import { bundle } from './bundle.ts';
import { archiveFiles, renderManifest, type PlatformArchive } from './manifest.ts';
import { nodeBinary } from './node-binaries.ts';
import { noticesText, packageDirs, readPackage } from './notices.ts';
import { injectBlob, makeBlob } from './sea.ts';
import { findSigner } from './sign.ts';
import { exeName, helperName, hostTarget, NODE_VERSION, TARGETS, targetId, type Target } from './targets.ts';

const log = (line: string) => process.stderr.write(`release: ${line}\n`);

export interface ReleaseOptions {
  out: string;
  /** Where the archives will be downloadable from; the manifest's uri is BASE/ARCHIVE. */
  baseUrl?: string | undefined;
  targets: readonly Target[];
  /** Ship darwin executables without a signature (tests, or signing later on a Mac). */
  unsignedDarwin: boolean;
}

/** The archive's file name: kubectl-netns_0.1.0_linux_amd64.tar.gz. */
export function archiveName(version: string, target: Target): string {
  return `kubectl-netns_${version}_${targetId(target)}.tar.gz`;
}

/** The default release URL: the template's homepage's GitHub release for tag vVERSION. */
export function defaultBaseUrl(template: string, version: string): string {
  const homepage = /^\s+homepage:\s*(\S+)\s*$/m.exec(template)?.[1];
  if (!homepage) throw new Error('plugin.yaml has no spec.homepage to derive the release URL from');
  return `${homepage.replace(/\/$/, '')}/releases/download/v${version}`;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Builds every artifact into opts.out; resolves with the SHA256SUMS lines. */
export async function release(opts: ReleaseOptions): Promise<string[]> {
  const info = sourceInfo();
  if (info.commit.endsWith('-dirty')) log(`warning: uncommitted changes; the executables say commit ${info.commit}`);
  const signer = opts.unsignedDarwin ? undefined : findSigner();
  if (opts.targets.some((t) => t.os === 'darwin') && !signer && !opts.unsignedDarwin) {
    throw new Error(
      'no code signer for the darwin executables (Apple-silicon Macs refuse unsigned ones): build rcodesign ' +
        'as docs/release.md says, or run on a Mac with codesign, or pass --unsigned-darwin to skip signing',
    );
  }
  const host = hostTarget();
  if (!host) throw new Error(`no Node binary for this machine (${process.platform}/${process.arch}) to make the blob`);

  // Emptying --out must never delete something that is not ours (a mistyped --out .).
  const ours = ['SHA256SUMS', 'work'].some((f) => existsSync(join(opts.out, f)));
  if (existsSync(opts.out) && readdirSync(opts.out).length > 0 && !ours)
    throw new Error(`${opts.out} is not empty and holds no earlier release; choose another --out`);
  rmSync(opts.out, { recursive: true, force: true });
  const work = join(opts.out, 'work');
  mkdirSync(work, { recursive: true });

  log(`bundling v${info.version} (commit ${info.commit})`);
  const b = await bundle(info);
  const script = join(work, 'kubectl-netns.cjs');
  writeFileSync(script, b.code);

  mkdirSync(join(work, 'host-node'));
  const hostNode = await nodeBinary(host, join(work, 'host-node'), log);
  if (!hostNode.license) throw new Error(`${host.nodePackage} has no LICENSE to put in THIRD-PARTY-NOTICES`);
  const notices = join(work, 'THIRD-PARTY-NOTICES');
  const packages = packageDirs(b.inputs).map((dir) => readPackage(join(ROOT, dir)));
  writeFileSync(notices, noticesText(NODE_VERSION, readFileSync(hostNode.license, 'utf8'), packages));
  log(`bundle: ${(b.code.length / 1e6).toFixed(1)} MB from ${packages.length} npm packages`);
  const blob = makeBlob(hostNode.binary, 'kubectl-netns.cjs', work);

  const template = readFileSync(join(ROOT, 'plugin.yaml'), 'utf8');
  const baseUrl = (opts.baseUrl ?? defaultBaseUrl(template, info.version)).replace(/\/$/, '');
  const archives: PlatformArchive[] = [];
  const sums: string[] = [];
  for (const target of opts.targets) {
    const began = Date.now();
    const id = targetId(target);
    const dir = join(opts.out, 'bin', id);
    mkdirSync(join(work, id), { recursive: true });
    mkdirSync(dir, { recursive: true });
    const node = await nodeBinary(target, join(work, id), log);
    const exe = join(dir, exeName(target));
    injectBlob(target, node.binary, blob, exe);
    rmSync(node.binary);
    if (target.os === 'darwin' && signer) signer.sign(exe);
    const helper = join(dir, helperName(target));
    copyFileSync(join(ROOT, 'scripts/release/files', helperName(target)), helper);
    // The manifest's files list (archiveFiles) decides what goes in, and in which order.
    const sources = new Map<string, Omit<ArchiveEntry, 'name'>>([
      [exeName(target), { source: exe, mode: 0o755 }],
      [helperName(target), { source: helper, mode: 0o755 }],
      ['LICENSE', { source: join(ROOT, 'LICENSE'), mode: 0o644 }],
      ['THIRD-PARTY-NOTICES', { source: notices, mode: 0o644 }],
    ]);
    const entries: ArchiveEntry[] = archiveFiles(target).map((name) => {
      const entry = sources.get(name);
      if (!entry) throw new Error(`no source for ${name} in the ${id} archive`);
      return { name, ...entry };
    });
    const name = archiveName(info.version, target);
    const file = join(opts.out, name);
    await writeArchive(file, entries, info.sourceDateEpoch);
    const sum = sha256(file);
    archives.push({ target, uri: `${baseUrl}/${name}`, sha256: sum });
    sums.push(`${sum}  ${name}`);
    const signed = target.os !== 'darwin' ? '' : signer ? ', ad-hoc signed' : ', NOT signed';
    const took = ((Date.now() - began) / 1000).toFixed(1);
    log(`${name}: ${(readFileSync(file).length / 1e6).toFixed(1)} MB${signed} (${took} s)`);
  }

  const manifest = join(opts.out, 'netns.yaml');
  writeFileSync(manifest, renderManifest(template, `v${info.version}`, archives));
  sums.push(`${sha256(manifest)}  netns.yaml`);
  writeFileSync(join(opts.out, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  rmSync(work, { recursive: true, force: true });
  return sums;
}

function parseTargets(list: string | undefined): Target[] {
  if (!list) return [...TARGETS];
  return list.split(',').map((id) => {
    const t = TARGETS.find((x) => targetId(x) === id.trim());
    if (!t) throw new Error(`unknown target ${id} (known: ${TARGETS.map(targetId).join(', ')})`);
    return t;
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, 'release') },
      'base-url': { type: 'string' },
      targets: { type: 'string' },
      'unsigned-darwin': { type: 'boolean', default: false },
    },
  });
  const started = Date.now();
  try {
    const sums = await release({
      out: resolve(values.out),
      baseUrl: values['base-url'] ?? process.env.KUBECTL_NETNS_RELEASE_BASE_URL,
      targets: parseTargets(values.targets),
      unsignedDarwin: values['unsigned-darwin'],
    });
    process.stdout.write(`${sums.join('\n')}\n`);
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s: ${resolve(values.out)}`);
  } catch (err) {
    log(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
