import { OmakaseError } from '../../models/omakaseError.ts';
import type { ProtoErrorCode } from '../protocol.ts';

/** A protocol-layer error to throw or send; its code is one of PROTO_ERRORS (protocol/errorCodes.ts). */
export const protoError = (code: ProtoErrorCode, message: string): OmakaseError =>
  new OmakaseError(code, message);
