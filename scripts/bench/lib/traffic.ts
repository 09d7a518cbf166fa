// The traffic every contender captures: curl on the host downloading the random payload from a
// web pod on the cluster's bridge, over and over, for a bounded time, at a bounded rate (or as
// fast as it goes). Only the local cluster's pods are ever addressed.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { PAYLOAD_PATH } from './cluster.ts';

/**
 * Downloads PATH from IP for SECONDS (at most 100000 times), as fast as the pod sends it (see
 * setRate). Resolves when curl has been stopped.
 */
export function offer(ip: string, seconds: number, path = PAYLOAD_PATH): Promise<void> {
  const args = ['-s', '-o', '/dev/null', '--noproxy', '*', '--connect-timeout', '2'];
  // A URL glob: curl fetches them one after another; the query string keeps httpd serving the file.
  // httpd serves /www: the URL path is the file's path below it.
  args.push(`http://${ip}:8080${path.replace(/^\/www/, '')}?[1-100000]`);
  const child = spawn('curl', args, { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGTERM'), seconds * 1000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Offers to every IP at once. */
export async function offerMany(ips: string[], seconds: number, path = PAYLOAD_PATH): Promise<void> {
  await Promise.all(ips.map((ip) => offer(ip, seconds, path)));
}

/**
 * A trickle of small UDP datagrams to IP (nothing listens: the datagram and the ICMP reply are the
 * packets), PER_SECOND of them, until stop() or MAX_SECONDS. For time-to-first-packet runs.
 */
export function trickle(ip: string, perSecond = 200, maxSeconds = 120): { stop(): void } {
  const sock = createSocket('udp4');
  const payload = Buffer.from('kubectl-netns bench trickle');
  const timer = setInterval(() => sock.send(payload, 9999, ip), 1000 / perSecond);
  const limit = setTimeout(() => stop(), maxSeconds * 1000);
  const stop = () => {
    clearInterval(timer);
    clearTimeout(limit);
    try {
      sock.close();
    } catch {
      // already closed
    }
  };
  return { stop };
}
