// A picture of a `kubectl netns path` pcapng in the real Wireshark GUI (Debian's wireshark-qt) on a
// virtual display (Xvfb): the packet list with each packet's hop (interface name) and its comment
// (flow, hop, step from the previous hop), filtered to one flow, for docs/path.md. No cluster is
// needed: it opens a file. xwd takes the screen, ImageMagick's convert makes it a small PNG.
//
// Usage: node scripts/wireshark-path-shot.ts --file PATH.pcapng --screenshot FILE.png [--filter DISPLAY_FILTER]
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    screenshot: { type: 'string' },
    filter: { type: 'string', default: 'frame.comment' },
  },
});
if (!values.file || !values.screenshot) throw new Error('usage: --file PATH.pcapng --screenshot FILE.png [--filter F]');
for (const tool of ['wireshark', 'Xvfb', 'xwd', 'convert']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
    throw new Error(`${tool} is not installed (bash scripts/install-deps.sh installs it)`);
}
const file = resolve(values.file);
const screenshot = resolve(values.screenshot);
const home = mkdtempSync(join(tmpdir(), 'knetns-pathshot-'));
let xvfb: ChildProcess | undefined;
let wireshark: ChildProcess | undefined;

/** A display number no X server uses yet. */
function freeDisplay(): string {
  for (let n = 120 + (process.pid % 20); n < 250; n++) if (!existsSync(`/tmp/.X11-unix/X${n}`)) return `:${n}`;
  throw new Error('no free X display number');
}

try {
  // Columns: where (the hop) and what the path says about the packet, beside the usual ones.
  const conf = join(home, '.config', 'wireshark');
  mkdirSync(conf, { recursive: true });
  writeFileSync(
    join(conf, 'preferences'),
    [
      'gui.geometry_main_x: 0',
      'gui.geometry_main_y: 0',
      'gui.geometry_main_width: 1600',
      'gui.geometry_main_height: 620',
      'privs.warn_if_elevated: FALSE',
      'gui.update.enabled: FALSE',
      'gui.column.format:',
      '\t"No.", "%m",',
      '\t"Time", "%t",',
      // Wireshark sizes a new column to its title: these titles are as wide as what they show.
      '\t"Hop: the interface the packet was captured on, on which node", "%Cus:frame.interface_name:0:R",',
      '\t"Protocol", "%p",',
      '\t"Packet comment (kubectl netns path)", "%Cus:frame.comment:0:R"',
      '',
    ].join('\n'),
  );
  // The list and the selected packet's details (its comment on top); no bytes pane.
  writeFileSync(
    join(conf, 'recent'),
    ['gui.bytes_view_show: FALSE', 'gui.geometry_main_upper_pane: 330', ''].join('\n'),
  );
  // Where the main window goes and how big it is (Wireshark keeps that in recent_common).
  writeFileSync(
    join(conf, 'recent_common'),
    [
      'gui.geometry_main_x: 0',
      'gui.geometry_main_y: 0',
      'gui.geometry_main_width: 1600',
      'gui.geometry_main_height: 620',
      'gui.geometry_main_maximized: FALSE',
      'privs.already_warned: TRUE',
      '',
    ].join('\n'),
  );
  const display = freeDisplay();
  xvfb = spawn('Xvfb', [display, '-screen', '0', '1600x620x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(`/tmp/.X11-unix/X${display.slice(1)}`); i++) await delay(100);
  const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: undefined, DISPLAY: display };
  wireshark = spawn('wireshark', ['-r', file, '-Y', values.filter], { env, stdio: 'ignore' });
  // Loading, filtering and drawing a small file takes a few seconds under Xvfb.
  await delay(9000);
  mkdirSync(dirname(screenshot), { recursive: true });
  execFileSync('sh', [
    '-c',
    `xwd -root -silent -display '${display}' | convert xwd:- -strip -colors 96 PNG8:'${screenshot}'`,
  ]);
  process.stderr.write(`==> ${screenshot}\n`);
} finally {
  wireshark?.kill('SIGTERM');
  xvfb?.kill('SIGTERM');
  await delay(300);
  rmSync(home, { recursive: true, force: true });
}
