// The names of a list (pods, nodes, namespaces) in one GET signed by the kubeconfig, for shell
// completion, which must answer within a Tab's patience: the typed API client would first load
// every API model. Only metadata names are read.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** GETs PATH (e.g. /api/v1/namespaces/shop/pods?fieldSelector=...) and returns the items' names. */
export async function listNames(kc: KubeConfig, path: string, timeoutMs = 5000): Promise<string[]> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no server');
  const opts: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  // The server may sit under a path prefix (a proxy): keep it, as client-node does.
  const base = new URL(server);
  const target = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base.origin);
  const request = target.protocol === 'http:' ? httpRequest : httpsRequest;
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(target, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
  const list = JSON.parse(body) as { items?: Array<{ metadata?: { name?: string } }> };
  return (list.items ?? []).map((i) => i.metadata?.name ?? '').filter(Boolean);
}
