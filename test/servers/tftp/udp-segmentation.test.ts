import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { enableUdpSegmentation, MIN_SEGMENT_SIZE } from '../../../src/servers/tftp/udp-segmentation.js';

describe.runIf(process.platform === 'linux')('UDP segmentation (Linux UDP_SEGMENT through koffi)', () => {
  it('splits one send of packets laid end to end into one datagram each; refuses tiny segments', async () => {
    const receiver = createSocket('udp4');
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
    try {
      expect(enableUdpSegmentation(sender, MIN_SEGMENT_SIZE - 1)).toBe(false);
      expect(enableUdpSegmentation(sender, 516)).toBe(true);
      const got: Buffer[] = [];
      const all = new Promise<void>((resolve) =>
        receiver.on('message', (message) => {
          got.push(message);
          if (got.length === 3) resolve();
        }),
      );
      const packets = [Buffer.alloc(516, 1), Buffer.alloc(516, 2), Buffer.alloc(100, 3)];
      await new Promise<void>((resolve, reject) =>
        sender.send(packets, receiver.address().port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
      );
      await all;
      expect(got.map((message) => [message.length, message[0]])).toEqual([
        [516, 1],
        [516, 2],
        [100, 3],
      ]);
    } finally {
      sender.close();
      receiver.close();
    }
  });
});
