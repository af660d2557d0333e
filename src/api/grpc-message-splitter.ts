/** gRPC's length-prefixed message: a compressed flag octet and a 4-octet big-endian length. */
const MESSAGE_HEADER_BYTES = 5;

/**
 * Cuts a stream's DATA bytes into gRPC messages, each with its 5-octet header. Like grpc-js'
 * decoder it checks a message's declared length as soon as its header is in, so a client
 * cannot make us buffer more than the limit for one message.
 */
export class GrpcMessageSplitter {
  private parts: Buffer[] = [];
  private buffered = 0;
  /** Declared length of the message being collected, once its header is in. */
  private expected: number | undefined;

  constructor(
    private readonly limitBytes: number,
    private readonly onMessage: (framed: Buffer) => void,
    /** Called once with the declared length that is over the limit; nothing is read after it. */
    private readonly onTooLarge: (declared: number) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.expected === -1) return;
    this.parts.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < MESSAGE_HEADER_BYTES) return;
        const declared = this.joined().readUInt32BE(1);
        if (declared > this.limitBytes) {
          this.expected = -1;
          this.parts = [];
          return this.onTooLarge(declared);
        }
        this.expected = declared;
      }
      const total = MESSAGE_HEADER_BYTES + this.expected;
      if (this.buffered < total) return;
      const all = this.joined();
      this.parts = all.length > total ? [all.subarray(total)] : [];
      this.buffered -= total;
      this.expected = undefined;
      this.onMessage(all.subarray(0, total));
      if (this.expected === -1) return;
    }
  }

  private joined(): Buffer {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0]!;
  }
}
