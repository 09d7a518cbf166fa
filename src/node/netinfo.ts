// Parses what the agent's `netinfo` op prints (agent.sh's header documents the records): the
// routes and listening sockets of one network namespace. Pure.
import { parseRoutes, parseSsLine, type Route, type Socket } from './iproute.ts';

export interface NetInfo {
  routes: Route[];
  /** undefined when sockets were not asked for. */
  sockets: Socket[] | undefined;
  warnings: string[];
}

export function parseNetinfo(text: string, sockets: boolean): NetInfo {
  const out: NetInfo = { routes: [], sockets: sockets ? [] : undefined, warnings: [] };
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'route' && (f[1] === '4' || f[1] === '6')) {
      out.routes.push(...parseRoutes(f.slice(2).join('\t'), f[1] === '4' ? 4 : 6));
    } else if (f[0] === 'socket' && out.sockets) {
      const s = parseSsLine(f.slice(1).join('\t'));
      if (s) out.sockets.push(s);
    } else if (f[0] === 'warn') {
      out.warnings.push(f.slice(1).join('\t'));
    }
  }
  return out;
}
