// Real captures made at test time with this machine's tcpdump/dumpcap, and tshark as the referee.
// Nothing here is a fake: the traffic is real TCP/UDP on loopback, the files are what the tools wrote.
// Needs root (packet sockets). In CI (CI=true) a missing tool or privilege is a failure, never a skip.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns a skip reason when a required tool or root is missing, or false when all is there.
 * Under CI=true it throws instead, so the test file fails: CI must never silently skip these.
 */
export function requireCaptureTools(tools: readonly string[]): string | false {
  const missing = tools.filter((t) => !hasTool(t));
  const problems = missing.map((t) => `${t} is not installed`);
  if (process.getuid?.() !== 0) problems.push('capturing packets needs root');
  if (problems.length === 0) return false;
  const reason = `${problems.join('; ')} (apt-get install -y tcpdump tshark)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and the capture tests cannot run: ${reason}`);
  return reason;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'netns-pcap-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs tshark on a file and returns one array of field values per frame (tab separated, '' when absent). */
export function tsharkFields(file: string, fields: readonly string[], extra: readonly string[] = []): string[][] {
  const out = execFileSync(
    'tshark',
    ['-r', file, ...extra, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'], // tshark warns about running as root on stderr
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** A child process writing a capture; stop() ends it with SIGINT (so it flushes) and waits for exit. */
interface RunningCapture {
  stop: () => Promise<void>;
}

// Starts a capture tool and resolves once it reports it is listening (the socket is bound by then).
async function startCapture(
  cmd: string,
  args: readonly string[],
  onStdout?: (chunk: Buffer) => void,
): Promise<RunningCapture> {
  // tcpdump says "listening on lo, link-type ..." once bound. dumpcap says "Capturing on ..." before
  // its interfaces are open (packets sent then are lost) and "File: ..." once they are.
  const ready = cmd === 'dumpcap' ? /^File: /m : /listening on/;
  const child = spawn(cmd, args, { stdio: ['ignore', onStdout ? 'pipe' : 'ignore', 'pipe'] });
  if (onStdout) child.stdout?.on('data', onStdout);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (ready.test(stderr)) resolve();
    });
    child.on('error', reject);
    void exited.then((code) => reject(new Error(`${cmd} exited (${code}) before listening: ${stderr}`)));
  });
  return {
    stop: async () => {
      child.kill('SIGINT');
      const code = await exited;
      if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${stderr}`);
      // A fixture with holes would still parse, but tests asserting "the GET is there" would flake.
      // tcpdump: "N packets dropped by kernel"; dumpcap: "Packets received/dropped on interface 'lo': R/N".
      const drops = [
        ...stderr.matchAll(/(\d+) packets? dropped by kernel|received\/dropped on interface '[^']*': \d+\/(\d+)/g),
      ];
      if (drops.some((m) => (m[1] ?? m[2]) !== '0')) throw new Error(`${cmd} dropped packets: ${stderr}`);
    },
  };
}

// Waits until a file stops growing (every packet written), bounded so a busy interface cannot hang us.
async function waitQuiet(file: string | undefined, bytesSoFar?: () => number): Promise<void> {
  const size = () => (bytesSoFar ? bytesSoFar() : file ? (statSync(file, { throwIfNoEntry: false })?.size ?? 0) : 0);
  let last = -1;
  for (let i = 0; i < 40; i++) {
    await sleep(150);
    const now = size();
    if (now === last) return;
    last = now;
  }
}

/** Which capture to make: tcpdump on lo or any (optionally -y / nano), or dumpcap writing pcapng. */
export interface CaptureSpec {
  tool?: 'tcpdump' | 'dumpcap';
  /** Several interfaces only with dumpcap (one pcapng IDB each). Default lo. */
  iface?: string | readonly string[];
  /** Extra tool arguments, e.g. ['--time-stamp-precision', 'nano'] or ['-y', 'LINUX_SLL']. */
  args?: readonly string[];
  filter: string;
}

// --immediate-mode: deliver each packet at once instead of per ring block, so stopping right after
// the traffic loses nothing. It switches libpcap to a ring of snaplen-sized slots, which the
// default 2 MiB buffer fills with a handful of packets (seen here: 12 of 20 dropped on -i any),
// hence -B 65536 (KiB). -Z root: Debian's tcpdump otherwise drops to user tcpdump and cannot
// write into our root-owned temp dir.
function toolArgs(spec: CaptureSpec, out: string): [string, string[]] {
  const ifaces = typeof spec.iface === 'string' ? [spec.iface] : (spec.iface ?? ['lo']);
  if (spec.tool === 'dumpcap') {
    // dumpcap's -B (MiB) and -f apply to the -i before them.
    const perIface = ifaces.flatMap((i) => ['-i', i, '-B', '64', '-f', spec.filter]);
    return ['dumpcap', ['-q', ...perIface, ...(spec.args ?? []), '-w', out]];
  }
  if (ifaces.length !== 1) throw new Error('tcpdump captures one interface; use dumpcap for several');
  return [
    'tcpdump',
    [
      '-Z',
      'root',
      '--immediate-mode',
      '-B',
      '65536',
      '-U',
      '-i',
      ifaces[0] as string,
      ...(spec.args ?? []),
      '-w',
      out,
      spec.filter,
    ],
  ];
}

/** Captures to `file` while `traffic` runs, then stops the tool once the file stops growing. */
export async function captureToFile(spec: CaptureSpec, file: string, traffic: () => Promise<void>): Promise<void> {
  const [cmd, args] = toolArgs(spec, file);
  const cap = await startCapture(cmd, args);
  try {
    await traffic();
    await waitQuiet(file);
  } finally {
    await cap.stop();
  }
}

/** Captures with `tcpdump -w -`, handing each stdout chunk to onChunk as the pipe delivers it. */
export async function captureToStdout(
  spec: CaptureSpec,
  onChunk: (chunk: Buffer) => void,
  traffic: () => Promise<void>,
): Promise<void> {
  const [cmd, args] = toolArgs(spec, '-');
  let bytes = 0;
  const cap = await startCapture(cmd, args, (c) => {
    bytes += c.length;
    onChunk(c);
  });
  try {
    await traffic();
    await waitQuiet(undefined, () => bytes);
  } finally {
    await cap.stop();
  }
}

/** A TCP server on `host` that answers one HTTP request per connection with `bodyBytes` of body, then closes. */
export async function httpServer(
  host: string,
  bodyBytes: number,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((sock) => {
    let head = '';
    sock.on('data', (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        sock.end(
          `HTTP/1.1 200 OK\r\nContent-Length: ${bodyBytes}\r\nConnection: close\r\n\r\n${'x'.repeat(bodyBytes)}`,
        );
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Sends `GET path` to host:port and waits for the whole response (the server closes). Returns its size. */
export async function httpGet(host: string, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const sock = net.connect({ host, port }, () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: kubectl-netns-test\r\n\r\n`);
    });
    sock.on('data', (d) => (received += d.length));
    sock.on('end', () => resolve(received));
    sock.on('error', reject);
  });
}

/** Sends one UDP datagram to a port nobody listens on, so the kernel answers with ICMP(v6) port unreachable. */
export async function udpToClosedPort(host: string, port: number, payload: string): Promise<void> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.on('error', () => {}); // the ICMP error surfaces as ECONNREFUSED on some kernels; expected
  await new Promise<void>((resolve, reject) =>
    sock.send(payload, port, host, (err) => (err ? reject(err) : resolve())),
  );
  await sleep(50);
  sock.close();
}

/** A UDP port that is free right now (bound and released), for the closed-port ICMP trick. */
export async function freeUdpPort(type: 'udp4' | 'udp6'): Promise<number> {
  const sock = dgram.createSocket(type);
  await new Promise<void>((resolve) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', resolve));
  const port = sock.address().port;
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}
