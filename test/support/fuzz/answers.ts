import {
  COMMAND_CONTRACT,
  CommandAckDto,
  CommandResultDto,
  ErrorCode,
  describeProblems,
  isCommandType,
  validatePayload,
} from '@mosaic/protocol';

const CODES = new Set<string>(Object.values(ErrorCode));

/** How a command ended, as the fuzz counts it: a code, or `ok` for a command that succeeded. */
export interface Outcome {
  /** `ack` for a refusal in the acknowledgement, `result` for one in command.result, `ok` for a success. */
  stage: 'ack' | 'result' | 'ok' | 'duplicate';
  code: string;
}

/**
 * Reads a device's answer to a command the way a strict Hive would: the ack and the result must
 * have their §2 shapes and every refusal must carry a code of §7. Throws, saying why, otherwise.
 */
export function classify(ack: unknown, result?: unknown): Outcome {
  const checkedAck = validatePayload(CommandAckDto, ack);
  if (!checkedAck.ok)
    throw new Error(`malformed acknowledgement ${JSON.stringify(ack)?.slice(0, 500)}: ${describeProblems(checkedAck.details)}`);
  const a = checkedAck.value;
  if (!a.accepted) return { stage: 'ack', code: knownCode(a.error!.code, ack) };
  if (a.duplicate) return { stage: 'duplicate', code: 'duplicate' };
  const checked = validatePayload(CommandResultDto, result);
  if (!checked.ok)
    throw new Error(`malformed command.result ${JSON.stringify(result)?.slice(0, 500)}: ${describeProblems(checked.details)}`);
  const r = checked.value;
  if (r.id !== a.id) throw new Error(`command.result for ${r.id} answers command ${a.id}`);
  if (!r.ok) return { stage: 'result', code: knownCode(r.error!.code, result) };
  if (isCommandType(r.type)) {
    const shape = validatePayload(COMMAND_CONTRACT[r.type].result, r.result);
    if (!shape.ok) throw new Error(`the result of ${r.type} does not have its shape: ${describeProblems(shape.details)}`);
  }
  return { stage: 'ok', code: 'ok' };
}

function knownCode(code: string, answer: unknown): string {
  if (!CODES.has(code)) throw new Error(`undocumented error code ${code} in ${JSON.stringify(answer).slice(0, 500)}`);
  if (code === ErrorCode.INTERNAL)
    throw new Error(`INTERNAL: the device failed where it should have refused: ${JSON.stringify(answer).slice(0, 1000)}`);
  return code;
}

/** Counts outcomes by stage and code, for the closing table. */
export class OutcomeTally {
  readonly counts = new Map<string, number>();

  add(property: string, outcome: Outcome): void {
    const key = `${property}\t${outcome.stage}\t${outcome.code}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  total(filter: (property: string, stage: string, code: string) => boolean = () => true): number {
    let n = 0;
    for (const [key, count] of this.counts) if (filter(...(key.split('\t') as [string, string, string]))) n += count;
    return n;
  }

  /** One line per property, stage and code, sorted; then the refusals by code over all properties. */
  table(): string {
    const rows = [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `${key.replace(/\t/g, ' | ')} | ${n}`);
    const byCode = new Map<string, number>();
    for (const [key, n] of this.counts) {
      const [, stage, code] = key.split('\t');
      if (stage === 'ack' || stage === 'result') byCode.set(code, (byCode.get(code) ?? 0) + n);
    }
    const codes = [...byCode.entries()].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} | ${n}`);
    return ['property | stage | code | count', ...rows, '', 'refusals by code | count', ...codes].join('\n');
  }
}
