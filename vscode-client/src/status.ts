/**
 * The status bar item: indexing progress while the server reports it ($/progress), then
 * what the index holds and which model answers (the server's `tandem.status` command).
 */
import * as vscode from "vscode";
import {
  type BaseLanguageClient,
  type ClientCapabilities,
  type FeatureState,
  type StaticFeature,
  WorkDoneProgress,
  type WorkDoneProgressBegin,
  WorkDoneProgressCreateRequest,
  type WorkDoneProgressReport,
} from "vscode-languageclient/node";

import type { ServerSettings } from "./settings";

export class StatusItem implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly active = new Map<string, string>();

  constructor(command: string) {
    this.item = vscode.window.createStatusBarItem("tandem.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Tandem";
    this.item.command = command;
    this.show("$(loading~spin) Tandem: starting", "Tandem is starting its language server");
  }

  show(text: string, tooltip: string, error = false): void {
    this.item.text = text;
    this.item.tooltip = `${tooltip}\n\nClick for Tandem's actions.`;
    // Screen readers (and the editor tests) get the whole state, not just the short text.
    this.item.accessibilityInformation = { label: `Tandem. ${tooltip.replace(/\n/g, ". ")}` };
    this.item.backgroundColor = error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }

  /** True while the server reports work in progress (indexing, training). */
  get busy(): boolean {
    return this.active.size > 0;
  }

  progress(token: string, title: string, value: WorkDoneProgressBegin | WorkDoneProgressReport): void {
    this.active.set(token, title);
    const pct = value.percentage !== undefined ? ` ${Math.round(value.percentage)}%` : "";
    const message = value.message ? ` (${value.message})` : "";
    this.show(`$(sync~spin) Tandem: ${title.toLowerCase()}${pct}`, `${title}${pct}${message}`);
  }

  progressEnded(token: string): void {
    this.active.delete(token);
  }

  /** Shows the server's `tandem.status` answer: chunks indexed and the model in use. */
  showStatus(status: unknown, settings: ServerSettings): void {
    if (this.busy) return;
    const summary = summarize(status, settings);
    const icon = settings.completion.enabled ? "$(check)" : "$(circle-slash)";
    this.show(`${icon} Tandem: ${summary.short}`, summary.long);
  }
}

interface Summary {
  short: string;
  long: string;
}



type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A count from an index status: a number, or an object holding one (`{rows: n}`). */
function count(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (isObject(value)) return num(value.rows) ?? num(value.count) ?? num(value.total);
  return undefined;
}

/**
 * Reads what `tandem.status` reports (server/lsp/commands.py: `folders[].index` from the
 * indexer, `completer.<folder>` from the pipeline) and ignores the rest, so a richer
 * status never breaks the item.
 */
export function summarize(status: unknown, settings: ServerSettings): Summary {
  const configured = settings.model;
  const root = isObject(status) ? status : {};
  let chunks: number | undefined;
  let files: number | undefined;
  const states: string[] = [];
  for (const folder of Array.isArray(root.folders) ? root.folders : []) {
    if (!isObject(folder)) continue;
    const state = str(folder.state);
    if (state) states.push(state);
    const index = isObject(folder.index) ? folder.index : {};
    const c = count(index.chunks);
    const f = count(index.files);
    if (c !== undefined) chunks = (chunks ?? 0) + c;
    if (f !== undefined) files = (files ?? 0) + f;
  }
  let model: Json = {};
  const completer = isObject(root.completer) ? root.completer : {};
  for (const value of Object.values(completer)) {
    if (isObject(value) && str(value.backend)) {
      model = value;
      break;
    }
  }
  // Before its first completion the server has no pipeline to report: show what is
  // configured, which is what it will load.
  const loaded = str(model.backend) !== undefined;
  const backend = str(model.backend) ?? configured.backend;
  const name = loaded ? str(model.model) : configured.model;
  const adapter = loaded ? str(model.adapter) : configured.adapter;
  const chunkText = chunks !== undefined ? `${chunks.toLocaleString("en-US")} chunks` : "index ready";
  const modelText =
    backend === "retrieval" || !name ? (backend ?? "") : `${name}${adapter ? " + LoRA" : ""}`;
  const enabled = settings.completion.enabled;
  const short = [chunkText, enabled ? modelText : "completions off"].filter(Boolean).join(" · ");
  const lines = [
    `Indexed: ${chunks ?? "?"} chunks in ${files ?? "?"} files${states.length ? ` (${states.join(", ")})` : ""}`,
    `Backend: ${backend ?? "?"}${str(model.fallback_reason) ? ` (${str(model.fallback_reason)})` : ""}`,
    `Model: ${backend === "retrieval" ? "none (no model)" : (name ?? "?")}`,
    `Completions: ${enabled ? "on" : "off"} (multi-line: ${settings.completion.multiline})`,
  ];
  if (adapter) lines.push(`Adapter: ${adapter}`);
  const signals = isObject(root.signals) ? root.signals : {};
  const offered = num(signals.offered);
  if (offered !== undefined) {
    lines.push(`Suggestions: ${offered} offered, ${num(signals.accepted) ?? 0} accepted`);
  }
  return { short, long: lines.join("\n") };
}

/**
 * Owns `window/workDoneProgress/create` so that the server's progress drives the status
 * bar item. Registered after the built-in progress feature, whose handler it replaces.
 */
export class StatusProgressFeature implements StaticFeature {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: BaseLanguageClient,
    private readonly status: StatusItem,
    private readonly onEnd: () => void,
  ) {}

  getState(): FeatureState {
    return { kind: "static" };
  }

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = capabilities.window ?? {};
    capabilities.window.workDoneProgress = true;
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
      const token = String(params.token);
      let title = "Working";
      const disposable = this.client.onProgress(WorkDoneProgress.type, params.token, (value) => {
        if (value.kind === "begin") {
          title = value.title;
          this.status.progress(token, title, value);
        } else if (value.kind === "report") {
          this.status.progress(token, title, value);
        } else {
          this.status.progressEnded(token);
          disposable.dispose();
          this.onEnd();
        }
      });
      this.disposables.push(disposable);
    });
  }

  clear(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
