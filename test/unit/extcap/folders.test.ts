// Which extcap folder the installed Wireshark reads: from `tshark -G folders` where tshark is
// installed (asked for real below), else from the version dumpcap or wireshark report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  chooseReported,
  findWiresharkProgram,
  parseFolders,
  parseVersion,
  personalFolderByRule,
  wiresharkExtcapFolder,
} from '../../../src/extcap/folders.ts';
import { tempDir } from '../../helpers/temp.ts';

// Debian 12's tshark 4.0.17, as it printed it here.
const WS40 = `Temp:                \t/tmp
Personal configuration:\t/home/u/.config/wireshark
Global configuration:\t/usr/share/wireshark
Program:             \t/usr/bin
Personal Plugins:    \t/home/u/.local/lib/wireshark/plugins/4.0
Extcap path:         \t/usr/lib/x86_64-linux-gnu/wireshark/extcap
MaxMind database path:\t/usr/share/GeoIP
`;
// Wireshark 4.2's layout (labels as ui/qt/about_dialog.cpp and tshark print them).
const WS42 = `Personal configuration:\t/home/u/.config/wireshark
Personal Extcap path:\t/home/u/.local/lib/wireshark/extcap
Global Extcap path:  \t/usr/lib/x86_64-linux-gnu/wireshark/extcap
`;

test('tshark -G folders, before and after 4.1', () => {
  assert.deepEqual(parseFolders(WS40), {
    personalConfig: '/home/u/.config/wireshark',
    globalExtcap: '/usr/lib/x86_64-linux-gnu/wireshark/extcap',
  });
  assert.deepEqual(parseFolders(WS42), {
    personalConfig: '/home/u/.config/wireshark',
    personalExtcap: '/home/u/.local/lib/wireshark/extcap',
    globalExtcap: '/usr/lib/x86_64-linux-gnu/wireshark/extcap',
  });
  assert.deepEqual(parseVersion('TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3).'), [4, 0]);
});

test('the personal folder where Wireshark has one, saying why; the global one otherwise', () => {
  assert.equal(chooseReported(parseFolders(WS42), [4, 2], 'W')!.dir, '/home/u/.local/lib/wireshark/extcap');
  const old = chooseReported(parseFolders(WS40), [4, 0], 'Wireshark 4.0')!;
  assert.equal(old.dir, '/home/u/.config/wireshark/extcap');
  assert.match(old.why, /personal configuration folder/);
  const onlyGlobal = chooseReported({ globalExtcap: '/usr/lib/wireshark/extcap' }, [4, 0], 'W')!;
  assert.equal(onlyGlobal.dir, '/usr/lib/wireshark/extcap');
  assert.match(onlyGlobal.why, /no personal extcap folder/);
});

test('without tshark: the personal folder of that version and platform', () => {
  assert.equal(personalFolderByRule('linux', { HOME: '/h' }, [4, 0]), '/h/.config/wireshark/extcap');
  assert.equal(personalFolderByRule('linux', { HOME: '/h', XDG_CONFIG_HOME: '/x' }, [3, 6]), '/x/wireshark/extcap');
  assert.equal(personalFolderByRule('darwin', { HOME: '/Users/u' }, [4, 4]), '/Users/u/.local/lib/wireshark/extcap');
  assert.equal(
    personalFolderByRule('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, [4, 4]),
    'C:\\Users\\u\\AppData\\Roaming\\Wireshark\\extcap',
  );
});

test("Wireshark's programs on PATH first, then where installers put them", () => {
  const have = (paths: string[]) => (p: string) => paths.includes(p);
  assert.equal(
    findWiresharkProgram('tshark', 'linux', { PATH: '/opt/ws/bin:/usr/bin' }, have(['/opt/ws/bin/tshark'])),
    '/opt/ws/bin/tshark',
  );
  assert.equal(
    findWiresharkProgram(
      'tshark',
      'darwin',
      { PATH: '/usr/bin' },
      have(['/Applications/Wireshark.app/Contents/MacOS/tshark']),
    ),
    '/Applications/Wireshark.app/Contents/MacOS/tshark',
  );
  assert.equal(
    findWiresharkProgram(
      'tshark',
      'win32',
      { PATH: '', ProgramFiles: 'C:\\Program Files' },
      have(['C:\\Program Files\\Wireshark\\tshark.exe']),
    ),
    'C:\\Program Files\\Wireshark\\tshark.exe',
  );
  assert.equal(findWiresharkProgram('tshark', 'linux', { PATH: '/nowhere' }, have([])), undefined);
});

function installed(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const noTshark = installed('tshark') ? false : 'tshark is not installed (scripts/install-deps.sh installs it)';
if (noTshark && process.env.CI === 'true') throw new Error(noTshark);

test("the installed tshark's answer for a user whose HOME is new", { skip: noTshark }, () => {
  const home = tempDir('knetns-home-');
  const env = { PATH: process.env.PATH, HOME: home };
  const chosen = wiresharkExtcapFolder(process.platform, env)!;
  const version = parseVersion(execFileSync('tshark', ['-v'], { encoding: 'utf8', env }))!;
  const want =
    version[0] > 4 || (version[0] === 4 && version[1] >= 1)
      ? join(home, '.local', 'lib', 'wireshark', 'extcap')
      : join(home, '.config', 'wireshark', 'extcap');
  assert.equal(chosen.dir, want);
});
