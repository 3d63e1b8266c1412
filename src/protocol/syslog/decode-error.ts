/** A datagram that is not syslog: the message names the field, the offset says where (in characters). */
export class SyslogDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'SyslogDecodeError';
  }
}
