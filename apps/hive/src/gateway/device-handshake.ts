import { Injectable } from '@nestjs/common';
import {
  ErrorCode,
  HandshakeAuthDto,
  PROTOCOL_VERSION,
  ProtocolError,
  describeProblems,
  isPlainObject,
  protocolError,
  validatePayload,
} from '@mosaic/protocol';
import { DeviceRecord } from '../devices/device.repository';
import { DevicesService } from '../devices/devices.service';

export type Admission = { ok: true; device: DeviceRecord; auth: HandshakeAuthDto } | { ok: false; error: ProtocolError };

/** Decides whether a connecting device may in (docs/protocol.md §1): protocol version, then auth shape, then token. */
@Injectable()
export class DeviceHandshake {
  constructor(private readonly devices: DevicesService) {}

  async admit(auth: unknown): Promise<Admission> {
    // A numeric protocol other than ours wins over any other problem: a future protocol may shape auth differently.
    if (isPlainObject(auth) && typeof auth.protocol === 'number' && auth.protocol !== PROTOCOL_VERSION) {
      return refuse(
        ErrorCode.PROTOCOL_UNSUPPORTED,
        `This Hive speaks protocol ${PROTOCOL_VERSION}; the device asked for ${auth.protocol}.`,
      );
    }
    const checked = validatePayload(HandshakeAuthDto, auth);
    if (!checked.ok) {
      return refuse(ErrorCode.UNAUTHORIZED, `The handshake auth is malformed: ${describeProblems(checked.details)}`, checked.details);
    }
    const device = await this.devices.findByToken(checked.value.token);
    if (!device) return refuse(ErrorCode.UNAUTHORIZED, 'The device token is not known to this Hive.');
    return { ok: true, device, auth: checked.value };
  }
}

function refuse(code: ErrorCode, message: string, details?: unknown): Admission {
  return { ok: false, error: protocolError(code, message, details) };
}
