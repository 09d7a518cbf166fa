// Builds the local cluster's three images from files on this machine and imports them into containerd.
//
// There is no registry and no Docker engine here, so each image is written as a docker-archive tar
// (manifest.json + <config>.json + <layer>/layer.tar) and handed to `ctr images import`:
//   kubectl-netns.local/debug:dev  dash as /bin/sh, busybox applets, tcpdump, nsenter, ip, ss, zstd + their libraries
//   kubectl-netns.local/web:dev    busybox httpd serving /www on :8080
//   kubectl-netns.local/pause:dev  a static pause binary built from pause.c (the sandbox image)
// Every tar entry has a fixed owner and mtime and the entries are sorted, so the same host files give
// the same config digest; an image whose digest is already in containerd is not imported again.
//
// Usage: node scripts/images/build.ts [--address SOCK]... [--storage ROOT+RUNROOT]... [--ctr PATH]
//                                     [--out DIR] [--no-import] [--only debug,web]
// Each --address is one containerd, each --storage one CRI-O's containers-storage (overlay driver), one
// per node of the local cluster: the images are built once and imported into every one of them,
// into containers-storage by `skopeo copy docker-archive:… containers-storage:…` (CRI-O has no import).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import tar from 'tar-stream';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_SOCK = process.env.KNETNS_CONTAINERD_SOCK ?? '/run/kubectl-netns/containerd/containerd.sock';
const NAMESPACE = 'k8s.io'; // the containerd namespace the CRI plugin (and so kubelet) reads
const EPOCH = new Date(0); // fixed mtime: same inputs, same layer digest
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BUSYBOX = '/bin/busybox';

export const IMAGES = {
  debug: 'kubectl-netns.local/debug:dev',
  web: 'kubectl-netns.local/web:dev',
  pause: 'kubectl-netns.local/pause:dev',
} as const;
type ImageKey = keyof typeof IMAGES;

type Node =
  | { type: 'directory'; mode: number }
  | { type: 'file'; mode: number; src: string }
  | { type: 'data'; mode: number; data: Buffer }
  | { type: 'symlink'; target: string };

// An in-memory file tree: paths (no leading slash) to what the layer will hold.
class Rootfs {
  readonly nodes = new Map<string, Node>();

  dir(path: string, mode = 0o755): void {
    const p = norm(path);
    if (p === '' || this.nodes.has(p)) return;
    this.dir(posix.dirname(p));
    this.nodes.set(p, { type: 'directory', mode });
  }

  // Copy a host file (following symlinks for the content, keeping the name the caller gives).
  copy(path: string, src: string, mode?: number): void {
    const p = norm(path);
    this.dir(posix.dirname(p));
    this.nodes.set(p, { type: 'file', mode: mode ?? statSync(src).mode & 0o7777, src: realpathSync(src) });
  }

  data(path: string, data: string | Buffer, mode = 0o644): void {
    const p = norm(path);
    this.dir(posix.dirname(p));
    this.nodes.set(p, { type: 'data', mode, data: Buffer.from(data) });
  }

  symlink(path: string, target: string): void {
    const p = norm(path);
    this.dir(posix.dirname(p));
    this.nodes.set(p, { type: 'symlink', target });
  }

  // A dynamically linked host binary plus every library `ldd` lists for it and the loader itself.
  binary(path: string, hostPath: string): void {
    this.copy(path, hostPath, 0o755);
    for (const lib of sharedLibraries(hostPath)) {
      if (!this.nodes.has(norm(lib))) this.copy(lib, lib);
    }
  }

  // busybox-static as /bin/busybox with one symlink per applet, except names a real tool already has.
  busybox(): void {
    this.copy('bin/busybox', BUSYBOX, 0o755);
    const taken = new Set(
      [...this.nodes.keys()].filter((p) => this.nodes.get(p)?.type === 'file').map((p) => posix.basename(p)),
    );
    const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) {
      if (applet === 'bin/busybox' || taken.has(posix.basename(applet))) continue;
      this.symlink(applet, '/bin/busybox');
    }
  }
}

function norm(path: string): string {
  return posix.normalize(path).replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.$/, '');
}

// Paths of the shared objects a binary loads, as `ldd` prints them (the loader path must stay exact).
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

function which(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} not found on this machine (run scripts/install-deps.sh)`);
}

function baseFiles(fs: Rootfs, extraUsers = ''): void {
  fs.dir('tmp', 0o1777);
  fs.dir('root', 0o700);
  for (const d of ['etc', 'proc', 'sys', 'dev', 'run', 'var/run', 'usr/local/bin']) fs.dir(d);
  fs.data(
    'etc/passwd',
    `root:x:0:0:root:/root:/bin/sh\n${extraUsers}nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n`,
  );
  fs.data('etc/group', `root:x:0:\n${extraUsers ? 'tcpdump:x:108:\n' : ''}nogroup:x:65534:\n`);
}

function debugImage(): { fs: Rootfs; cmd: string[] } {
  const fs = new Rootfs();
  // Debian's tcpdump drops privileges to user `tcpdump` after opening the device: ship that user.
  baseFiles(fs, 'tcpdump:x:104:108::/nonexistent:/bin/false\n');
  fs.binary('usr/bin/tcpdump', which('tcpdump'));
  fs.binary('usr/bin/nsenter', which('nsenter'));
  fs.binary('usr/sbin/ip', which('ip'));
  fs.binary('usr/bin/ss', which('ss'));
  // capture --compress prefers zstd (several times faster than busybox's gzip on the node's CPU).
  fs.binary('usr/bin/zstd', which('zstd'));
  // Port and protocol names for tcpdump/ss output, when netbase is installed.
  for (const f of ['/etc/protocols', '/etc/services']) if (existsSync(f)) fs.copy(f, f, 0o644);
  fs.binary('bin/dash', which('dash'));
  fs.busybox();
  // /bin/sh is dash, not busybox: Debian's busybox-static prefers its own applets to PATH, in its
  // shell AND in its exec (seen in a pod: `sh -c 'ip -j link'`, `sh -c 'exec ip -V'` and
  // `sh -c 'nsenter -t PID -n -- ip -V'` all ran busybox's ip or nsenter, which lack -j and
  // util-linux options). dash searches PATH, where only the real tools are; busybox stays for
  // everything else (cat, awk, sleep, ... and `ash`).
  fs.symlink('bin/sh', '/bin/dash');
  return { fs, cmd: ['sleep', 'infinity'] };
}

function webImage(): { fs: Rootfs; cmd: string[] } {
  const fs = new Rootfs();
  baseFiles(fs);
  fs.busybox();
  fs.data(
    'www/index.html',
    '<!doctype html>\n<title>kubectl-netns web</title>\n<p>hello from kubectl-netns.local/web</p>\n',
  );
  return { fs, cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'] };
}

function pauseImage(work: string): { fs: Rootfs; cmd: string[] } {
  const bin = join(work, 'pause');
  execFileSync('gcc', ['-static', '-Os', '-s', '-o', bin, join(HERE, 'pause.c')], { stdio: 'inherit' });
  const fs = new Rootfs();
  fs.copy('pause', bin, 0o755);
  return { fs, cmd: ['/pause'] };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

// Write entries to a tar file. tar-stream needs each entry's size up front: host files are stat'ed,
// generated files are buffers.
async function writeTar(path: string, add: (pack: tar.Pack) => Promise<void>): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(path));
  await add(pack);
  pack.finalize();
  await done;
}

function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, body?: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const full = { uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH, ...header };
    if (body === undefined) pack.entry(full, (err) => (err ? reject(err) : resolve()));
    else if (typeof body !== 'string') pack.entry(full, body, (err) => (err ? reject(err) : resolve()));
    else {
      const stream = pack.entry({ ...full, size: statSync(body).size }, (err) => (err ? reject(err) : resolve()));
      createReadStream(body).on('error', reject).pipe(stream);
    }
  });
}

async function writeLayer(fs: Rootfs, path: string): Promise<void> {
  await writeTar(path, async (pack) => {
    for (const name of [...fs.nodes.keys()].sort()) {
      const n = fs.nodes.get(name)!;
      if (n.type === 'directory') await entry(pack, { name: `${name}/`, type: 'directory', mode: n.mode });
      else if (n.type === 'symlink') await entry(pack, { name, type: 'symlink', linkname: n.target, mode: 0o777 });
      else if (n.type === 'data') await entry(pack, { name, type: 'file', mode: n.mode, size: n.data.length }, n.data);
      else await entry(pack, { name, type: 'file', mode: n.mode }, n.src);
    }
  });
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

// One docker-archive: returns the archive path and the image config digest.
async function writeArchive(
  ref: string,
  fs: Rootfs,
  cmd: string[],
  work: string,
): Promise<{ archive: string; configDigest: string }> {
  const layerPath = join(work, 'layer.tar');
  await writeLayer(fs, layerPath);
  const diffId = await sha256File(layerPath);
  const config = Buffer.from(
    JSON.stringify({
      architecture: ARCH[process.arch] ?? process.arch,
      os: 'linux',
      created: EPOCH.toISOString(),
      config: {
        Env: [PATH_ENV],
        Cmd: cmd,
        WorkingDir: '/',
        Labels: { 'org.opencontainers.image.source': 'kubectl-netns scripts/images/build.ts' },
      },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created: EPOCH.toISOString(), created_by: 'kubectl-netns scripts/images/build.ts' }],
    }),
  );
  const configHex = createHash('sha256').update(config).digest('hex');
  const manifest = Buffer.from(
    JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [ref], Layers: [`${diffId}/layer.tar`] }]),
  );
  const archive = join(work, `${ref.replace(/[^a-z0-9]+/gi, '_')}.tar`);
  await writeTar(archive, async (pack) => {
    await entry(pack, { name: `${diffId}/`, type: 'directory', mode: 0o755 });
    await entry(pack, { name: `${diffId}/layer.tar`, type: 'file', mode: 0o644 }, layerPath);
    await entry(pack, { name: `${configHex}.json`, type: 'file', mode: 0o644, size: config.length }, config);
    await entry(pack, { name: 'manifest.json', type: 'file', mode: 0o644, size: manifest.length }, manifest);
  });
  rmSync(layerPath);
  return { archive, configDigest: `sha256:${configHex}` };
}

// The config digest of the image `ref` already in containerd, or undefined.
function presentConfigDigest(ctr: string[], ref: string): string | undefined {
  const lines = execFileSync(ctr[0]!, [...ctr.slice(1), 'images', 'ls', `name==${ref}`], { encoding: 'utf8' }).split(
    '\n',
  );
  const target = lines
    .slice(1)
    .map((l) => l.split(/\s+/))
    .find((cols) => cols[0] === ref)?.[2];
  if (!target) return undefined;
  try {
    const manifest = JSON.parse(
      execFileSync(ctr[0]!, [...ctr.slice(1), 'content', 'get', target], { encoding: 'utf8' }),
    ) as { config?: { digest?: string } } | null;
    return manifest?.config?.digest;
  } catch {
    return undefined;
  }
}

// skopeo's name for the containers-storage STORE (ROOT+RUNROOT, overlay driver) holding REF. The
// overlay driver would otherwise bind-mount its home onto itself in OUR mount namespace and leave
// it there; CRI-O makes its own in the node's.
const storageRef = (store: string, ref: string) =>
  `containers-storage:[overlay@${store}:overlay.skip_mount_home=true]${ref}`;

// The config digest of REF in containers-storage STORE, or undefined: skopeo hands back the config
// blob as stored, and the docker-archive's config digest is the sha256 of exactly those bytes.
function storageConfigDigest(store: string, ref: string): string | undefined {
  try {
    const raw = execFileSync('skopeo', ['inspect', '--config', '--raw', storageRef(store, ref)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: 'string', multiple: true },
      storage: { type: 'string', multiple: true, default: [] },
      ctr: { type: 'string', default: 'ctr' },
      out: { type: 'string' },
      'no-import': { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const keys = (values.only ? values.only.split(',') : Object.keys(IMAGES)) as ImageKey[];
  for (const k of keys)
    if (!(k in IMAGES)) throw new Error(`unknown image ${k}; known: ${Object.keys(IMAGES).join(', ')}`);
  const doImport = !values['no-import'];
  const addresses = values.address ?? (values.storage.length ? [] : [DEFAULT_SOCK]);
  const ctrs = addresses.map((address) => [values.ctr, '--address', address, '-n', NAMESPACE]);
  for (const address of addresses)
    if (doImport && !existsSync(address))
      throw new Error(`containerd socket ${address} not found (is the cluster up? npm run cluster:up)`);

  const work = mkdtempSync(join(tmpdir(), 'knetns-images-'));
  try {
    for (const key of keys) {
      const started = Date.now();
      const ref = IMAGES[key];
      const { fs, cmd } = key === 'debug' ? debugImage() : key === 'web' ? webImage() : pauseImage(work);
      const { archive, configDigest } = await writeArchive(ref, fs, cmd, work);
      const size = statSync(archive).size;
      let what = 'built';
      if (values.out) {
        mkdirSync(values.out, { recursive: true });
        execFileSync('cp', [archive, join(values.out, posix.basename(archive))]);
        what += `, saved to ${values.out}`;
      }
      if (doImport) {
        const missing = ctrs.filter((ctr) => presentConfigDigest(ctr, ref) !== configDigest);
        for (const ctr of missing)
          execFileSync(ctr[0]!, [...ctr.slice(1), 'images', 'import', archive], {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
        const stores = values.storage.filter((store) => storageConfigDigest(store, ref) !== configDigest);
        for (const store of stores)
          execFileSync('skopeo', ['copy', '--quiet', `docker-archive:${archive}`, storageRef(store, ref)], {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
        const total = ctrs.length + values.storage.length;
        const where = `${total} runtime${total === 1 ? '' : 's'}`;
        const done = missing.length + stores.length;
        what += done === 0 ? `, already in ${where}` : `, imported into ${done} of ${where}`;
      }
      rmSync(archive);
      console.error(
        `[images] ${ref} ${configDigest.slice(0, 19)} ${(size / 1048576).toFixed(1)} MiB: ${what} (${Date.now() - started} ms)`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`[images] error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
