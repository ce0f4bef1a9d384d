import { ClassConstructor } from 'class-transformer';
import {
  AppCommandRunParamsDto,
  EmptyParamsDto,
  SchedulerPrepareParamsDto,
  SchedulerReplicateParamsDto,
  SchedulerStartParamsDto,
  SchedulerStopParamsDto,
  UpgradeParamsDto,
} from './dto/command-params.dto';
import {
  AppCommandResultDto,
  DiskSpaceResultDto,
  InfoResultDto,
  PrepareResultDto,
  ReplicateResultDto,
  StartResultDto,
  StopResultDto,
  UpgradeResultDto,
} from './dto/command-results.dto';
import { isPlainObject } from './validation';

/** §2: the whole set of command types. Nothing outside this table is ever executed. */
export const CommandType = {
  SchedulerStart: 'SchedulerAction.start',
  SchedulerStop: 'SchedulerAction.stop',
  DiskSpace: 'SystemCommand.diskSpace',
  Info: 'SystemCommand.info',
  AppCommandRun: 'AppCommand.run',
  UpgradeRun: 'UpgradeCommand.run',
  SchedulerPrepare: 'SchedulerAction.prepare',
  SchedulerReplicate: 'SchedulerAction.replicate',
} as const;
export type CommandType = (typeof CommandType)[keyof typeof CommandType];

export const COMMAND_TYPES: readonly CommandType[] = Object.values(CommandType);

export function isCommandType(value: unknown): value is CommandType {
  return typeof value === 'string' && (COMMAND_TYPES as readonly string[]).includes(value);
}

/** The table of §2 as code: each type's params and result DTO. */
export const COMMAND_CONTRACT: Record<CommandType, { params: ClassConstructor<object>; result: ClassConstructor<object> }> = {
  [CommandType.SchedulerStart]: { params: SchedulerStartParamsDto, result: StartResultDto },
  [CommandType.SchedulerStop]: { params: SchedulerStopParamsDto, result: StopResultDto },
  [CommandType.DiskSpace]: { params: EmptyParamsDto, result: DiskSpaceResultDto },
  [CommandType.Info]: { params: EmptyParamsDto, result: InfoResultDto },
  [CommandType.AppCommandRun]: { params: AppCommandRunParamsDto, result: AppCommandResultDto },
  [CommandType.UpgradeRun]: { params: UpgradeParamsDto, result: UpgradeResultDto },
  [CommandType.SchedulerPrepare]: { params: SchedulerPrepareParamsDto, result: PrepareResultDto },
  [CommandType.SchedulerReplicate]: { params: SchedulerReplicateParamsDto, result: ReplicateResultDto },
};

/** The wire shapes, for code that builds them. */
export interface CommandEnvelope<P = Record<string, unknown>> {
  id: string;
  type: string;
  issuedAt: string;
  params: P;
}

/**
 * §2: the id an acknowledgement names when the envelope may be unusable: the string id as sent,
 * cut to 64 characters, or "" (never a number, an object or a megabyte echoed back).
 */
export function commandIdOf(payload: unknown): string {
  return isPlainObject(payload) && typeof payload.id === 'string' ? payload.id.slice(0, 64) : '';
}
