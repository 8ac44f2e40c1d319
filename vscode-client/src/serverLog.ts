/**
 * The server's stderr in the Tandem log at the level each line was logged with. The server
 * also sends its log records as window/logMessage (shown at info), so ordinary records from
 * stderr go to trace instead of appearing twice; warnings, errors and anything unformatted
 * (a traceback, a crash in native code) stay visible.
 */
import * as readline from "node:readline";
import type { Readable } from "node:stream";
import type { LogOutputChannel } from "vscode";
import type { StdioOptions } from "vscode-languageclient/node";

const RECORD = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) /;

export function logLine(line: string, log: LogOutputChannel): void {
  const level = RECORD.exec(line)?.[1];
  if (level === "DEBUG" || level === "INFO") log.trace(line);
  else if (level === "WARNING") log.warn(line);
  else log.error(line);
}

function lines(input: Readable, log: LogOutputChannel): void {
  readline
    .createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 })
    .on("line", (line) => logLine(line, log));
}

export const stdioOptions: Required<StdioOptions> = { stdout: lines, stderr: lines };
