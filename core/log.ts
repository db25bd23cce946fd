import type { Logger as TemporalLogger, LogLevel as TemporalLevel, LogMetadata } from '@temporalio/common';
import pino from 'pino';
import pretty from 'pino-pretty';
import { loadLogSettings, type LogSettings } from './config';

export type Log = pino.Logger;

/**
 * Fields whose values are never written, at the top level or one level down, whatever logs them:
 * a second line of defence behind the rule that no code logs a secret.
 */
const SECRET_FIELDS = ['password', 'clientSecret', 'refreshToken', 'accessToken', 'authorization', 'secret', 'token'];

/** JSON lines on stdout (production), or readable lines for a terminal (`npm start`). */
export function createLog(settings: LogSettings, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true })): Log {
  const options: pino.LoggerOptions = {
    level: settings.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)], censor: '****' },
  };
  if (settings.format === 'json') return pino(options, destination);
  return pino(
    options,
    pretty({
      destination,
      sync: true,
      colorize: Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      singleLine: true,
      ignore: 'pid,hostname,service',
      messageFormat: '{if service}[{service}] {end}{msg}',
    }),
  );
}

/** The process's logger, shared by the API, the worker, the activities and the Temporal SDK. */
export const log: Log = createLog(loadLogSettings());

/** Names the process in every line (worker, api, supervisor); called once at the start of main. */
export const nameProcess = (service: string): void => log.setBindings({ service });

const LEVELS: Record<TemporalLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal SDK's Logger (Runtime.install, bundleWorkflowCode) writing through a pino logger. */
export function temporalLogger(target: Log): TemporalLogger {
  // the SDK passes errors as `error`; pino serializes them (message, stack, cause) as `err`
  const write = (level: TemporalLevel, message: string, meta?: LogMetadata): void => {
    const { error, ...rest } = meta ?? {};
    target[LEVELS[level]](error === undefined ? rest : { ...rest, err: error }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
