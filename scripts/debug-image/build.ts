// Builds kubectl-netns's own debug image, for amd64 and arm64, from Debian packages: only what the
// agent runs (sh, nsenter, tcpdump, ip and ss, zstd; busybox for the small tools and gzip) and the
// libraries those load, nothing else. Separate from scripts/images (the local cluster's dev images,
// made from this machine's own files): this one is the image people can publish and pull.
//
//   node scripts/debug-image/build.ts [--arch amd64,arm64] [--out DIR] [--rootfs DIR] [--check]
//                                 [--push REGISTRY/NAME:TAG [--skopeo-arg ARG]...] [--update-lock]
//
// The packages and their exact versions and SHA-256 are in packages.lock next to this file. A
// build downloads exactly those (apt, through a private configuration per architecture under the
// cache directory: the machine's own apt configuration and dpkg database are never touched, so
// arm64 packages come without `dpkg --add-architecture`), checks each file's SHA-256, and writes
// the same bytes every time: sorted tar entries, fixed owner and mtime, gzip without a timestamp.
// --update-lock resolves the newest versions the Debian mirror serves and rewrites the lock.
//
// Output (--out, default CACHE/debug-image/out): an OCI image layout (oci/, one index over the
// architectures) and a docker-archive per architecture (debug-<arch>.tar, for `ctr images import`).
// --rootfs DIR also unpacks each architecture's filesystem into DIR/ARCH (the agent tests run the
// agent in this machine's). --check runs every tool of every image (--version or the like): this
// machine's natively, the others under qemu-user-static, whose .deb is fetched with the same private
// apt and unpacked into the cache, never installed (no binfmt handler is registered). --push copies the whole index to a registry with skopeo (`--all`); skopeo
// reads the registry credentials from its usual places (`skopeo login`, ~/.docker/config.json).
// stdout: one line per image, ARCH DIGEST, then "index DIGEST"; progress on stderr.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch as hostArch } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

const HERE = dirname(fileURLToPath(import.meta.url));
const LOCK = join(HERE, 'packages.lock');
const CACHE = join(process.env.KNETNS_CACHE_DIR ?? '/var/cache/kubectl-netns', 'debug-image');
const EPOCH = new Date(0);
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SOURCE = 'kubectl-netns scripts/debug-image/build.ts';

/** The Debian packages whose files go in; their dependencies are downloaded for the libraries. */
const PACKAGES = ['busybox-static', 'dash', 'util-linux', 'tcpdump', 'iproute2', 'zstd', 'netbase'];
/** Path in the image → path in the Debian packages (the same unless said otherwise). */
const TOOLS: Array<[string, string]> = [
  ['bin/busybox', 'bin/busybox'],
  ['bin/dash', 'bin/dash'],
  ['usr/bin/nsenter', 'usr/bin/nsenter'],
  ['usr/bin/tcpdump', 'usr/bin/tcpdump'],
  ['usr/sbin/ip', 'bin/ip'],
  ['usr/bin/ss', 'bin/ss'],
  ['usr/bin/zstd', 'usr/bin/zstd'],
];
const DATA_FILES = ['etc/protocols', 'etc/services'];
const ARCHES = { amd64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' } as const;
type Arch = keyof typeof ARCHES;

const log = (msg: string) => process.stderr.write(`[debug-image] ${msg}\n`);
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

// ---- apt, privately per architecture ------------------------------------------------------------

/**
 * apt-get with its own directory tree for ARCH: the machine's sources (same mirror, same keys),
 * but its own lists, cache and an empty dpkg status, so nothing on the machine changes.
 */
function apt(arch: Arch, args: string[], cwd?: string): string {
  const root = join(CACHE, `apt-${arch}`);
  if (!existsSync(join(root, 'var/lib/dpkg/status'))) {
    for (const d of [
      'etc/apt/apt.conf.d',
      'etc/apt/preferences.d',
      'var/lib/apt/lists/partial',
      'var/cache/apt/archives/partial',
      'var/lib/dpkg',
    ])
      mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  }
  const opts = [
    `Dir=${root}/`,
    'Dir::Etc::SourceList=/etc/apt/sources.list',
    'Dir::Etc::SourceParts=/etc/apt/sources.list.d',
    'Dir::Etc::Trusted=/etc/apt/trusted.gpg',
    'Dir::Etc::TrustedParts=/etc/apt/trusted.gpg.d',
    `Dir::State::status=${root}/var/lib/dpkg/status`,
    `APT::Architecture=${arch}`,
    `APT::Architectures=${arch}`,
    'APT::Install-Recommends=false',
    'Debug::NoLocking=true',
  ].flatMap((o) => ['-o', o]);
  return execFileSync('apt-get', [...opts, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Locked {
  arch: Arch;
  name: string;
  version: string;
  sha256: string;
}

function readLock(): Locked[] {
  if (!existsSync(LOCK)) return [];
  return readFileSync(LOCK, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [arch, name, version, hash] = l.split(/\s+/) as [Arch, string, string, string];
      return { arch, name, version, sha256: hash };
    });
}

/** Resolves the newest versions of PACKAGES and everything they depend on, for every arch, into the lock. */
function updateLock(arches: Arch[]): void {
  const rows: Locked[] = [];
  for (const arch of arches) {
    log(`${arch}: apt-get update (private lists)`);
    apt(arch, ['update', '-qq']);
    // An empty dpkg status: every dependency is "missing", so a simulated install names the whole closure.
    const out = apt(arch, ['install', '-s', '-y', ...PACKAGES]);
    const wanted = [...out.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => ({
      name: m[1]!.replace(/:.*$/, ''),
      version: m[2]!,
    }));
    const tmp = join(CACHE, `download-${arch}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    log(`${arch}: downloading ${wanted.length} packages`);
    apt(arch, ['download', '-qq', ...wanted.map((w) => `${w.name}:${arch}=${w.version}`)], tmp);
    const debs = join(CACHE, 'debs');
    mkdirSync(debs, { recursive: true });
    for (const f of readdirSync(tmp)) {
      const hash = sha256(readFileSync(join(tmp, f)));
      const w = wanted.find((x) => f.startsWith(`${x.name}_`));
      if (!w) throw new Error(`apt-get download left ${f}, which was not asked for`);
      copyFileSync(join(tmp, f), join(debs, `${hash}.deb`));
      rows.push({ arch, name: w.name, version: w.version, sha256: hash });
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  rows.sort((a, b) => a.arch.localeCompare(b.arch) || a.name.localeCompare(b.name));
  const header = [
    '# kubectl-netns debug image: the Debian packages it is built from (scripts/debug-image/build.ts),',
    `# ${PACKAGES.join(', ')} and what they depend on. Rewritten by --update-lock (${new Date().toISOString().slice(0, 10)}).`,
    '# ARCH PACKAGE VERSION SHA256',
  ];
  writeFileSync(
    LOCK,
    `${[...header, ...rows.map((r) => `${r.arch} ${r.name} ${r.version} ${r.sha256}`)].join('\n')}\n`,
  );
  log(`wrote ${rows.length} packages to ${LOCK}`);
}

/** Downloads the locked packages of ARCH (once; cached by SHA-256) and unpacks them into one tree. */
function stage(arch: Arch, lock: Locked[]): string {
  const debs = join(CACHE, 'debs');
  mkdirSync(debs, { recursive: true });
  const mine = lock.filter((l) => l.arch === arch);
  if (mine.length === 0) throw new Error(`no ${arch} packages in ${LOCK}: run with --update-lock --arch ${arch}`);
  const missing = mine.filter((l) => !existsSync(join(debs, `${l.sha256}.deb`)));
  if (missing.length) {
    log(`${arch}: downloading ${missing.length} packages`);
    apt(arch, ['update', '-qq']);
    const tmp = join(CACHE, `download-${arch}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      apt(arch, ['download', '-qq', ...missing.map((l) => `${l.name}:${arch}=${l.version}`)], tmp);
    } catch (err) {
      const why = (err as { stderr?: string }).stderr?.trim() ?? String(err);
      throw new Error(
        `apt-get download failed (the mirror may have replaced a locked version; --update-lock takes the newest): ${why}`,
        { cause: err },
      );
    }
    for (const f of readdirSync(tmp)) {
      const hash = sha256(readFileSync(join(tmp, f)));
      const want = missing.find((l) => f.startsWith(`${l.name}_`));
      if (!want || want.sha256 !== hash) throw new Error(`${f}: SHA-256 ${hash} is not the locked one`);
      copyFileSync(join(tmp, f), join(debs, `${hash}.deb`));
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  const root = join(CACHE, `staging-${arch}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const l of mine) execFileSync('dpkg-deb', ['-x', join(debs, `${l.sha256}.deb`), root]);
  return root;
}

// ---- the file tree ---------------------------------------------------------------------------------

type Node =
  | { type: 'directory'; mode: number }
  | { type: 'file'; mode: number; data: Buffer }
  | { type: 'symlink'; target: string };

/** Resolves PATH (relative to ROOT) through symlinks, staying inside ROOT. */
function resolveIn(root: string, path: string, depth = 0): string | undefined {
  if (depth > 20) return undefined;
  const parts = path.split('/').filter(Boolean);
  let cur = '';
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(cur, parts[i]!);
    const full = join(root, next);
    if (!existsSync(full) && !isLink(full)) return undefined;
    if (isLink(full)) {
      const target = readlinkSync(full);
      const joined = target.startsWith('/') ? target : posix.join(posix.dirname(next), target);
      return resolveIn(root, posix.join(posix.normalize(joined), ...parts.slice(i + 1)), depth + 1);
    }
    cur = next;
  }
  return cur;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

class Tree {
  readonly nodes = new Map<string, Node>();
  private readonly staging: string;
  private readonly triplet: string;
  constructor(staging: string, triplet: string) {
    this.staging = staging;
    this.triplet = triplet;
  }

  dir(path: string, mode = 0o755): void {
    if (path === '' || path === '.' || this.nodes.has(path)) return;
    this.dir(posix.dirname(path));
    this.nodes.set(path, { type: 'directory', mode });
  }

  data(path: string, data: Buffer | string, mode = 0o644): void {
    this.dir(posix.dirname(path));
    this.nodes.set(path, { type: 'file', mode, data: Buffer.from(data) });
  }

  symlink(path: string, target: string): void {
    this.dir(posix.dirname(path));
    this.nodes.set(path, { type: 'symlink', target });
  }

  /** A file of the packages, at PATH in the image, and for an ELF file its loader and libraries. */
  file(path: string, from = path): void {
    const real = resolveIn(this.staging, from);
    if (!real) throw new Error(`${from} is in none of the packages`);
    const full = join(this.staging, real);
    this.data(path, readFileSync(full), statSync(full).mode & 0o7777);
    if (readFileSync(full).subarray(0, 4).toString('latin1') === '\x7fELF') this.elfDeps(full);
  }

  /** The program interpreter and the NEEDED libraries of an ELF file, recursively, at the paths the loader looks in. */
  private elfDeps(full: string): void {
    const headers = execFileSync('readelf', ['-lW', full], { encoding: 'utf8' });
    const interp = /Requesting program interpreter: (\S+)]/.exec(headers)?.[1];
    if (interp && !this.nodes.has(interp.slice(1))) this.file(interp.slice(1));
    const dynamic = execFileSync('readelf', ['-dW', full], { encoding: 'utf8' });
    for (const m of dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)) {
      const soname = m[1]!;
      const at = [`lib/${this.triplet}`, `usr/lib/${this.triplet}`, 'lib', 'usr/lib']
        .map((d) => `${d}/${soname}`)
        .find((p) => resolveIn(this.staging, p));
      if (!at) throw new Error(`${posix.basename(full)} needs ${soname}, which none of the packages has`);
      if (!this.nodes.has(at)) this.file(at);
    }
  }
}

/** Everything the image holds, for ARCH, from its unpacked packages. */
function buildTree(arch: Arch, staging: string, applets: string[]): Tree {
  const t = new Tree(staging, ARCHES[arch]);
  t.dir('tmp', 0o1777);
  t.dir('root', 0o700);
  for (const d of ['etc', 'proc', 'sys', 'dev', 'run', 'var/run', 'usr/local/bin']) t.dir(d);
  // Debian's tcpdump drops privileges to user tcpdump after opening the device: ship that user.
  t.data(
    'etc/passwd',
    'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:104:108::/nonexistent:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  t.data('etc/group', 'root:x:0:\ntcpdump:x:108:\nnogroup:x:65534:\n');
  for (const f of DATA_FILES) t.file(f);
  for (const [path, from] of TOOLS) t.file(path, from);
  // /bin/sh is dash: Debian's busybox-static runs its own applets before PATH, in its shell and
  // its exec, and busybox's ip and nsenter lack -j and util-linux's options. busybox stays for
  // everything else (awk, grep, sed, stat, gzip, ...), one symlink per applet a real tool lacks.
  t.symlink('bin/sh', 'dash');
  const taken = new Set(TOOLS.map(([p]) => posix.basename(p)));
  for (const applet of applets) {
    if (applet === 'bin/busybox' || taken.has(posix.basename(applet)) || t.nodes.has(applet)) continue;
    t.symlink(applet, '/bin/busybox');
  }
  return t;
}

// ---- OCI layout and docker-archive ---------------------------------------------------------------

function tarOf(entries: Array<{ header: Partial<tar.Header> & { name: string }; body?: Buffer }>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
    for (const e of entries) {
      const header = { uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH, ...e.header };
      if (e.body) pack.entry(header, e.body);
      else pack.entry(header);
    }
    pack.finalize();
  });
}

function layerOf(t: Tree): Promise<Buffer> {
  return tarOf(
    [...t.nodes.keys()].sort().map((name) => {
      const n = t.nodes.get(name)!;
      if (n.type === 'directory') return { header: { name: `${name}/`, type: 'directory', mode: n.mode } };
      if (n.type === 'symlink') return { header: { name, type: 'symlink', linkname: n.target, mode: 0o777 } };
      return { header: { name, type: 'file', mode: n.mode, size: n.data.length }, body: n.data };
    }),
  );
}

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  data: Buffer;
}

const blob = (mediaType: string, data: Buffer): Blob => ({
  mediaType,
  digest: `sha256:${sha256(data)}`,
  size: data.length,
  data,
});
const descriptor = (b: Blob, extra: object = {}) => ({
  mediaType: b.mediaType,
  digest: b.digest,
  size: b.size,
  ...extra,
});

interface Built {
  arch: Arch;
  layer: Buffer;
  layerGz: Blob;
  config: Blob;
  manifest: Blob;
}

async function image(arch: Arch, t: Tree, version: string): Promise<Built> {
  const layer = await layerOf(t);
  // Level 9, no name and a zero mtime in the gzip header: the same layer gives the same blob.
  const layerGz = blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(layer, { level: 9 }));
  const labels = {
    'org.opencontainers.image.title': 'kubectl-netns debug image',
    'org.opencontainers.image.description': 'sh, nsenter, tcpdump, ip, ss, zstd (Debian packages) for kubectl-netns',
    'org.opencontainers.image.source': SOURCE,
    'org.opencontainers.image.version': version,
  };
  const config = blob(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        created: EPOCH.toISOString(),
        config: { Env: [PATH_ENV], Cmd: ['/bin/sh'], WorkingDir: '/', Labels: labels },
        rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
        history: [{ created: EPOCH.toISOString(), created_by: SOURCE }],
      }),
    ),
  );
  const manifest = blob(
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: descriptor(config),
        layers: [descriptor(layerGz)],
        annotations: labels,
      }),
    ),
  );
  return { arch, layer, layerGz, config, manifest };
}

function writeLayout(dir: string, built: Built[], tag: string): Blob {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const index = blob(
    'application/vnd.oci.image.index.v1+json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: built.map((b) => descriptor(b.manifest, { platform: { architecture: b.arch, os: 'linux' } })),
      }),
    ),
  );
  for (const b of [...built.flatMap((x) => [x.layerGz, x.config, x.manifest]), index])
    writeFileSync(join(dir, 'blobs/sha256', b.digest.slice(7)), b.data);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [descriptor(index, { annotations: { 'org.opencontainers.image.ref.name': tag } })],
    }),
  );
  return index;
}

/** A docker-archive of one architecture (what `ctr images import` and `docker load` read). */
async function dockerArchive(b: Built, ref: string): Promise<Buffer> {
  const diff = sha256(b.layer);
  const cfgName = `${b.config.digest.slice(7)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: cfgName, RepoTags: [ref], Layers: [`${diff}/layer.tar`] }]));
  return tarOf([
    { header: { name: `${diff}/`, type: 'directory', mode: 0o755 } },
    { header: { name: `${diff}/layer.tar`, type: 'file', mode: 0o644, size: b.layer.length }, body: b.layer },
    { header: { name: cfgName, type: 'file', mode: 0o644, size: b.config.size }, body: b.config.data },
    { header: { name: 'manifest.json', type: 'file', mode: 0o644, size: manifest.length }, body: manifest },
  ]);
}

// ---- check --------------------------------------------------------------------------------------

const QEMU: Record<Arch, string> = { amd64: 'qemu-x86_64-static', arm64: 'qemu-aarch64-static' };

/** A command per tool that makes it load all its libraries and exit 0. */
const TOOL_CHECKS: string[][] = [
  ['bin/sh', '-c', 'exit 0'],
  ['bin/busybox', '--list'],
  ['usr/bin/nsenter', '--version'],
  ['usr/bin/tcpdump', '--version'],
  ['usr/sbin/ip', '-V'],
  ['usr/bin/ss', '-V'],
  ['usr/bin/zstd', '--version'],
];

/** qemu-user-static for running ARCH's binaries here, unpacked into the cache; its path. */
function qemuFor(arch: Arch, here: Arch): string {
  const dir = join(CACHE, `qemu-${here}`);
  const bin = join(dir, 'usr/bin', QEMU[arch]);
  if (existsSync(bin)) return bin;
  apt(here, ['update', '-qq']);
  const tmp = join(CACHE, `download-qemu-${here}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  apt(here, ['download', '-qq', `qemu-user-static:${here}`], tmp);
  for (const f of readdirSync(tmp)) execFileSync('dpkg-deb', ['-x', join(tmp, f), dir]);
  rmSync(tmp, { recursive: true, force: true });
  if (!existsSync(bin)) throw new Error(`qemu-user-static has no ${QEMU[arch]}`);
  return bin;
}

/** Runs every tool of the image unpacked at ROOT; throws naming each that does not run. */
function check(arch: Arch, root: string, here: Arch): void {
  const failures: string[] = [];
  for (const [tool = '', ...args] of TOOL_CHECKS) {
    const argv =
      arch === here
        ? ['chroot', root, `/${tool}`, ...args]
        : [qemuFor(arch, here), '-L', root, join(root, tool), ...args];
    try {
      execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    } catch (err) {
      failures.push(
        `${tool}: ${
          String((err as { stderr?: Buffer }).stderr ?? err)
            .trim()
            .split('\n')[0]
        }`,
      );
    }
  }
  if (failures.length) throw new Error(`${arch} image: ${failures.join('; ')}`);
  log(`${arch}: every tool runs${arch === here ? '' : ` (under ${QEMU[arch]})`}`);
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: 'amd64,arm64' },
      out: { type: 'string', default: join(CACHE, 'out') },
      rootfs: { type: 'string' },
      check: { type: 'boolean', default: false },
      push: { type: 'string' },
      'skopeo-arg': { type: 'string', multiple: true, default: [] },
      'update-lock': { type: 'boolean', default: false },
    },
  });
  const arches = values.arch.split(',').map((a) => a.trim()) as Arch[];
  for (const a of arches)
    if (!(a in ARCHES)) throw new Error(`unknown --arch ${a}; known: ${Object.keys(ARCHES).join(', ')}`);
  const here: Arch = hostArch() === 'arm64' ? 'arm64' : 'amd64';
  if (values['update-lock']) updateLock([...new Set([...arches, here])]);
  const lock = readLock();
  // The lock's own digest names the build: same lock, same script version, same image.
  const version = `debian-bookworm-${sha256(readFileSync(LOCK)).slice(0, 12)}`;
  // busybox's applet list, from this machine's architecture's (same version) busybox.
  const hostStaging = stage(here, lock);
  const applets = execFileSync(join(hostStaging, 'bin/busybox'), ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  const built: Built[] = [];
  for (const arch of arches) {
    const staging = arch === here ? hostStaging : stage(arch, lock);
    const tree = buildTree(arch, staging, applets);
    const b = await image(arch, tree, version);
    built.push(b);
    mkdirSync(values.out, { recursive: true });
    writeFileSync(
      join(values.out, `debug-${arch}.tar`),
      await dockerArchive(b, `kubectl-netns.local/debug-image:${arch}`),
    );
    log(
      `${arch}: ${tree.nodes.size} entries, layer ${(b.layer.length / 1048576).toFixed(1)} MiB (${(b.layerGz.size / 1048576).toFixed(1)} MiB gzipped)`,
    );
    process.stdout.write(`${arch} ${b.manifest.digest}\n`);
    if (values.rootfs || values.check) {
      const root = join(values.rootfs ?? join(CACHE, 'rootfs'), arch);
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
      const layerFile = join(values.out, `layer-${arch}.tar`);
      writeFileSync(layerFile, b.layer);
      execFileSync('tar', ['-x', '-p', '-f', layerFile, '-C', root]);
      rmSync(layerFile);
      if (values.check) check(arch, root, here);
    }
  }
  const tag = version;
  const index = writeLayout(join(values.out, 'oci'), built, tag);
  process.stdout.write(`index ${index.digest}\n`);
  if (values.push) {
    log(`pushing ${arches.join(', ')} to ${values.push}`);
    execFileSync(
      'skopeo',
      ['copy', '--all', ...values['skopeo-arg'], `oci:${join(values.out, 'oci')}:${tag}`, `docker://${values.push}`],
      // skopeo's progress is for people: stderr; stdout stays the digests.
      { stdio: ['ignore', 2, 2] },
    );
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    log(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
