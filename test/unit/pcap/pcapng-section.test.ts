// PcapngSection: interfaces added over time keep their ids and precisions, and a rotated file's
// preamble makes its packets mean the same as in the first file, checked with tshark.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { epochString, LinkType } from '../../../src/pcap/format.ts';
import { PcapngSection } from '../../../src/pcap/pcapng-section.ts';
import { interfaceFromPcapHeader } from '../../../src/pcap/pcapng-writer.ts';
import { readPcap, readPcapng, type PcapFile } from '../../helpers/pcap/reader.ts';
import {
  captureToFile,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../helpers/pcap/fixtures.ts';

describe('PcapngSection', () => {
  test("interfaces get ids in order; packets and statistics use each interface's precision", () => {
    const s = new PcapngSection({ userAppl: 'kubectl-netns test' });
    assert.equal(s.addInterface({ linkType: LinkType.EN10MB, snaplen: 262144, precision: 'usec', name: 'a' }).id, 0);
    assert.equal(s.addInterface({ linkType: LinkType.EN10MB, snaplen: 262144, precision: 'nsec', name: 'b' }).id, 1);
    assert.equal(s.interfaceCount, 2);
    const rec = { tsSec: 5, tsFrac: 7, capLen: 1, origLen: 1, data: Buffer.from('x') };
    const file = readPcapng(
      Buffer.concat([
        s.preamble(),
        s.packet(0, rec),
        s.packet(1, rec),
        s.statistics({ interfaceId: 1, time: { tsSec: 6, tsFrac: 9 }, ifDrop: 2 }),
      ]),
    );
    assert.deepEqual(
      file.packets.map((p) => [p.interfaceId, p.tsSec, p.tsNanos]),
      [
        [0, 5, 7000],
        [1, 5, 7],
      ],
    );
    assert.deepEqual(
      file.statistics.map((x) => [x.interfaceId, x.tsSec, x.tsNanos, x.ifDrop]),
      [[1, 6, 9, 2n]],
    );
    assert.throws(() => s.packet(2, rec), /interface 2 was never added/);
  });

  test('the preamble carries the latest name of each address, once', () => {
    const s = new PcapngSection();
    assert.equal(readPcapng(s.preamble()).names.length, 0, 'no NRB without names');
    const nrb = s.addNames([
      { address: '10.0.0.1', names: ['old'] },
      { address: 'fd00::2', names: ['v6'] },
    ]);
    // The NRB handed back is for the file being written now (after any SHB).
    assert.deepEqual(
      readPcapng(Buffer.concat([new PcapngSection().preamble(), nrb])).names.map((n) => n.address),
      ['10.0.0.1', 'fd00::2'],
    );
    s.addNames([{ address: '10.0.0.1', names: ['new'] }]);
    assert.deepEqual(readPcapng(s.preamble()).names, [
      { address: 'fd00::2', names: ['v6'] },
      { address: '10.0.0.1', names: ['new'] },
    ]);
  });
});

const skip = requireCaptureTools(['tcpdump', 'tshark']);

describe('PcapngSection across rotated files, read by tshark', { skip }, () => {
  const tmp = tempDir();
  let v4: PcapFile;
  let v6: PcapFile;

  before(async () => {
    const s4 = await httpServer('127.0.0.2', 100);
    const s6 = await httpServer('::1', 100);
    const f4 = join(tmp.dir, 'v4.pcap');
    const f6 = join(tmp.dir, 'v6.pcap');
    await captureToFile(
      { filter: `tcp port ${s4.port}` },
      f4,
      async () => void (await httpGet('127.0.0.2', s4.port, '/')),
    );
    await captureToFile(
      { filter: `tcp port ${s6.port}`, args: ['--time-stamp-precision', 'nano'] },
      f6,
      async () => void (await httpGet('::1', s6.port, '/')),
    );
    await s4.close();
    await s6.close();
    v4 = readPcap(readFileSync(f4));
    v6 = readPcap(readFileSync(f6));
  });
  after(() => tmp.cleanup());

  test('a pod added in the first file keeps its interface name and id in the next file', () => {
    const s = new PcapngSection({ userAppl: 'kubectl-netns test' });
    const first = join(tmp.dir, 'web-00001.pcapng');
    const second = join(tmp.dir, 'web-00002.pcapng');
    const a = s.addInterface(interfaceFromPcapHeader(v4.header, { name: 'shop/a/eth0' }));
    const firstParts = [s.preamble(), ...v4.records.map((r) => s.packet(a.id, r))];
    // Mid-file, pod b appears with its name: its IDB and an NRB go into the current file.
    const b = s.addInterface(interfaceFromPcapHeader(v6.header, { name: 'shop/b/eth0' }));
    firstParts.push(b.block, s.addNames([{ address: '::1', names: ['b.shop'] }]), s.packet(b.id, v6.records[0]!));
    writeFileSync(first, Buffer.concat(firstParts));
    // Rotation: the new file starts with the preamble, then more packets of both pods.
    writeFileSync(second, Buffer.concat([s.preamble(), ...v6.records.slice(1).map((r) => s.packet(b.id, r))]));

    const fields = ['frame.interface_id', 'frame.interface_name', 'frame.time_epoch', 'ipv6.src_host'];
    const one = tsharkFields(first, fields, ['-N', 'n']);
    const two = tsharkFields(second, fields, ['-N', 'n']);
    assert.deepEqual(one.at(-1), [
      '1',
      'shop/b/eth0',
      epochString(v6.records[0]!.tsSec, v6.records[0]!.tsFrac, 'nsec'),
      'b.shop',
    ]);
    assert.deepEqual(
      two,
      v6.records.slice(1).map((r) => ['1', 'shop/b/eth0', epochString(r.tsSec, r.tsFrac, 'nsec'), 'b.shop']),
    );
  });
});
