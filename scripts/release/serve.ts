// Serves the files of one directory over HTTP on 127.0.0.1 (a free port), so krew's validator can
// download a release's archives the way users will, without the network. Prints the base URL on
// stdout, then serves until killed.
//
// Usage: node scripts/release/serve.ts DIR
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node scripts/release/serve.ts DIR\n');
  process.exit(2);
}

const server = createServer((req, res) => {
  // Flat directory: only the last path segment counts, so nothing outside DIR is reachable.
  const file = join(dir, basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
  try {
    const size = statSync(file).size;
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`http://127.0.0.1:${port}\n`);
});
