import type { Request } from "./http/types";
import { Logger } from "@/logging";

export interface Handler {
  name: string;
  handle(req: Request): Promise<Response>;
}

export type Middleware = (next: Handler) => Handler;

export enum Level {
  Debug,
  Info,
}

export abstract class BaseHandler implements Handler {
  protected log = new Logger("handler");

  constructor(public name: string) {}

  abstract handle(req: Request): Promise<Response>;

  describe(): string {
    return `${this.name} handler`;
  }
}

export const withLogging: Middleware = (next) => next;

export function compose(...layers: Middleware[]): Middleware {
  return (next) => layers.reduceRight((acc, layer) => layer(acc), next);
}
