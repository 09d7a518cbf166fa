// `-o DIR/`: one classic pcap per pod, from a real tcpdump stream, read back by tshark; each
// source counts its packets as they arrive (what the capture's ack waits for).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PerPodFiles } from '../../../../src/commands/shared/target-outputs.ts';
import { captureTargets } from '../../../../src/commands/shared/workload-capture.ts';
import type { ResolvedTarget } from '../../../../src/kube/target.ts';
import { readPcap } from '../../../helpers/pcap/reader.ts';
import {
  captureToFile,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../../helpers/pcap/fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark']);

const pod = (name: string): ResolvedTarget => ({
  namespace: 'shop',
  pod: name,
  podUid: `uid-${name}`,
  node: 'n1',
  podIP: '127.0.0.1',
  container: 'app',
  containerIds: ['abc'],
  runtime: 'containerd',
  hostNetwork: false,
  object: { metadata: { name }, status: { podIPs: [{ ip: '127.0.0.1' }] } },
  via: undefined,
  warnings: [],
});

describe('one file per pod (-o DIR/)', { skip }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  test('each pod’s stream lands whole in NAMESPACE_POD.pcap; packets count as they arrive', async () => {
    const server = await httpServer('127.0.0.1', 20_000);
    const raw = join(tmp.dir, 'raw.pcap');
    await captureToFile({ filter: `tcp port ${server.port}` }, raw, async () => {
      for (let i = 0; i < 3; i++) await httpGet('127.0.0.1', server.port, `/x${i}`);
    });
    await server.close();
    const stream = readFileSync(raw);
    const want = readPcap(stream).records.length;

    const [target] = captureTargets([pod('web-1')]);
    const files = new PerPodFiles(tmp.dir, false);
    const w = await files.source(
      target!,
      () => 'eth0',
      () => undefined,
    );
    for (let at = 0; at < stream.length; at += 500) {
      await new Promise<void>((resolve) => w.write(stream.subarray(at, at + 500), () => resolve()));
    }
    assert.equal(w.packets, want);
    await new Promise<void>((resolve) => w.end(() => resolve()));
    await files.endSource(target!);
    await files.finish();

    const path = join(tmp.dir, 'shop_web-1.pcap');
    assert.deepEqual(files.files, [path]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(tsharkFields(path, ['frame.number']).length, want);
    assert.ok(readFileSync(path).equals(stream), 'the pod’s pcap byte for byte');
  });

  test('a re-created pod of the same name (new UID) gets its own file, even with --overwrite; the first stays whole', async () => {
    const server = await httpServer('127.0.0.1', 20_000);
    const streams: Buffer[] = [];
    for (const n of [2, 4]) {
      const raw = join(tmp.dir, `raw-${n}.pcap`);
      await captureToFile({ filter: `tcp port ${server.port}` }, raw, async () => {
        for (let i = 0; i < n; i++) await httpGet('127.0.0.1', server.port, `/y${i}`);
      });
      streams.push(readFileSync(raw));
    }
    await server.close();
    const files = new PerPodFiles(tmp.dir, true);
    const incarnations = ['0f1e2d3c-aaaa-bbbb-cccc-001122334455', '9a8b7c6d-aaaa-bbbb-cccc-001122334455'].map(
      (uid) => captureTargets([{ ...pod('db-0'), podUid: uid }], true)[0]!,
    );
    for (const [i, t] of incarnations.entries()) {
      const w = await files.source(
        t,
        () => 'any',
        () => undefined,
      );
      await new Promise<void>((resolve) => w.end(streams[i]!, () => resolve()));
      await files.endSource(t);
    }
    await files.finish();
    const first = join(tmp.dir, 'shop_db-0.pcap');
    const second = join(tmp.dir, 'shop_db-0.9a8b7c6d.pcap');
    assert.deepEqual(files.files, [first, second]);
    assert.ok(readFileSync(first).equals(streams[0]!), 'the first pod’s file is its own, whole');
    assert.ok(readFileSync(second).equals(streams[1]!));
    assert.deepEqual(files.totals(incarnations[0]!)?.packets, readPcap(streams[0]!).records.length);
  });
});
