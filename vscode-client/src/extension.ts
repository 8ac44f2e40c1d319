/**
 * Tandem for VS Code: starts `python -m server serve --stdio` with the configured
 * interpreter and lets vscode-languageclient do the protocol (inline completion is one of
 * its default features). This file wires settings, the status bar item and the commands.
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";

import { checkTandemInstalled, resolveInterpreter } from "./python";
import { stdioOptions } from "./serverLog";
import { serverSettings } from "./settings";
import { StatusItem, StatusProgressFeature } from "./status";

/** Server commands (workspace/executeCommand) that the extension calls by name. */
const SERVER = {
  reindex: "tandem.reindex",
  forget: "tandem.forget",
  status: "tandem.status",
  train: "tandem.train",
} as const;

/** Palette commands named like the server's: vscode-languageclient registers the
 *  server's commands itself, so these get a local handler only when the server does not
 *  advertise them (or is not running), never a second registration. */
const FORWARDED = [SERVER.reindex, SERVER.train];

const STATUS_REFRESH_MS = 30_000;

/** Environment for the server: glibc's allocator settings make torch ~30x faster on
 *  small VMs and must be present when the process starts. */
function serverEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? "4294967296",
    MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? "4294967296",
    PYTHONUNBUFFERED: "1",
  };
}

class Tandem implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly status: StatusItem;
  private readonly log: vscode.LogOutputChannel;
  private fallbacks: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private python = "";

  constructor() {
    this.log = vscode.window.createOutputChannel("Tandem", { log: true });
    this.status = new StatusItem("tandem.showMenu");
  }

  async start(): Promise<void> {
    const interpreter = await resolveInterpreter(vscode.window.activeTextEditor?.document.uri);
    this.python = interpreter.path;
    const env = serverEnv();
    this.log.info(`Python: ${interpreter.path} (from ${interpreter.source})`);
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const check = await checkTandemInstalled(interpreter.path, env, cwd);
    if (!check.ok) {
      this.registerFallbacks(new Set());
      this.notInstalled(interpreter.path, interpreter.source, check.detail);
      return;
    }
    const serverOptions: ServerOptions = {
      command: interpreter.path,
      args: ["-m", "server", "serve"], // TransportKind.stdio appends --stdio
      transport: TransportKind.stdio,
      options: { env, cwd },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }],
      initializationOptions: serverSettings(),
      outputChannel: this.log,
      stdioOptions,
      middleware: {
        workspace: {
          // The server may pull settings (workspace/configuration): answer in its schema.
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            const settings = serverSettings();
            this.log.info(`The server asked for its settings: ${JSON.stringify(settings)}`);
            return params.items.map((item, i) =>
              item.section === undefined || item.section === "tandem" ? settings : answers[i],
            );
          },
        },
        executeCommand: async (command, args, next) => {
          const result = await next(command, args);
          if (command !== SERVER.status) this.refreshSoon();
          return result;
        },
      },
    };
    const client = new LanguageClient("tandem", "Tandem", serverOptions, clientOptions);
    client.registerFeature(new StatusProgressFeature(client, this.status, () => void this.refreshStatus()));
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) {
        this.status.show("$(circle-slash) Tandem: stopped", "The Tandem server is not running", true);
      }
    });
    this.client = client;
    this.disposeFallbacks();
    try {
      await client.start();
    } catch (error) {
      this.log.error(`The Tandem server failed to start: ${String(error)}`);
      this.status.show("$(error) Tandem: failed to start", String(error), true);
      this.registerFallbacks(new Set());
      return;
    }
    const advertised = new Set<string>(client.initializeResult?.capabilities.executeCommandProvider?.commands ?? []);
    this.registerFallbacks(advertised);
    if (!this.status.busy) this.status.show("$(sync~spin) Tandem: indexing", "Waiting for the index");
    await this.refreshStatus();
    this.timer = setInterval(() => void this.refreshStatus(), STATUS_REFRESH_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) await client.stop();
    this.disposeFallbacks();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.status.show("$(loading~spin) Tandem: starting", "Tandem is restarting its language server");
    await this.start();
  }

  /** Pushes the current settings to a running server (workspace/didChangeConfiguration). */
  async settingsChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration("tandem")) return;
    if (event.affectsConfiguration("tandem.pythonPath") || !this.client?.isRunning()) {
      await this.restart();
      return;
    }
    this.log.info("Settings changed; sending them to the server");
    await this.client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { tandem: serverSettings() },
    });
    await this.refreshStatus();
  }

  async serverCommand(command: string, args: unknown[] = []): Promise<unknown> {
    if (!this.client?.isRunning()) {
      void vscode.window.showWarningMessage("The Tandem server is not running. See Tandem: Show Log.");
      return undefined;
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  async refreshStatus(): Promise<void> {
    if (!this.client?.isRunning() || this.status.busy) return;
    try {
      const status = await this.client.sendRequest(ExecuteCommandRequest.type, { command: SERVER.status });
      this.status.showStatus(status, serverSettings());
    } catch (error) {
      this.log.warn(`tandem.status failed: ${String(error)}`);
    }
  }

  /** Queued work (forget, reindex) lands a moment after the command returns: look again. */
  refreshSoon(): void {
    for (const ms of [500, 2_000, 5_000]) setTimeout(() => void this.refreshStatus(), ms);
  }

  async forgetFile(uri?: vscode.Uri): Promise<void> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== "file") {
      void vscode.window.showWarningMessage("Tandem: open a file to forget first.");
      return;
    }
    const answer = await vscode.window.showWarningMessage(
      `Remove ${vscode.workspace.asRelativePath(target)} from Tandem's index and keep it out?`,
      { modal: true },
      "Forget",
    );
    if (answer !== "Forget") return;
    await this.serverCommand(SERVER.forget, [target.fsPath]);
    void vscode.window.showInformationMessage(`Tandem forgot ${vscode.workspace.asRelativePath(target)}.`);
    this.refreshSoon();
  }

  showLog(): void {
    this.log.show(true);
  }

  async showMenu(): Promise<void> {
    const items: (vscode.QuickPickItem & { command: string })[] = [
      { label: "$(refresh) Reindex", description: "index the workspace again", command: "tandem.reindex" },
      { label: "$(trash) Forget This File", description: "remove it from retrieval", command: "tandem.forgetFile" },
      { label: "$(mortar-board) Train Adapter", description: "fine-tune LoRA on this workspace", command: "tandem.train" },
      { label: "$(output) Show Log", description: "the server's log", command: "tandem.showLog" },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: "Tandem", placeHolder: "Choose an action" });
    if (picked) await vscode.commands.executeCommand(picked.command);
  }

  private notInstalled(python: string, source: string, detail: string): void {
    const message =
      `Tandem is not installed for the Python interpreter "${python}" (${source}): ${detail}. ` +
      `Install it there with "${python} -m pip install -e <your Tandem checkout>", ` +
      `or set "tandem.pythonPath" to an interpreter that has it.`;
    this.log.error(message);
    this.status.show("$(error) Tandem: not installed", message, true);
    void vscode.window.showErrorMessage(message, "Set tandem.pythonPath", "Show Log").then((choice) => {
      if (choice === "Set tandem.pythonPath") {
        void vscode.commands.executeCommand("workbench.action.openSettings", "tandem.pythonPath");
      } else if (choice === "Show Log") {
        this.showLog();
      }
    });
  }

  private registerFallbacks(advertised: Set<string>): void {
    this.disposeFallbacks();
    for (const command of FORWARDED) {
      if (advertised.has(command)) continue;
      this.fallbacks.push(
        vscode.commands.registerCommand(command, () =>
          this.client?.isRunning()
            ? vscode.window.showWarningMessage(`This Tandem server does not offer ${command}.`)
            : vscode.window.showWarningMessage(
                `The Tandem server is not running (Python: ${this.python}). See Tandem: Show Log.`,
              ),
        ),
      );
    }
  }

  private disposeFallbacks(): void {
    for (const d of this.fallbacks.splice(0)) d.dispose();
  }

  dispose(): void {
    void this.stop();
    this.status.dispose();
    this.log.dispose();
  }
}

let tandem: Tandem | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const t = new Tandem();
  tandem = t;
  context.subscriptions.push(
    t,
    vscode.commands.registerCommand("tandem.showMenu", () => t.showMenu()),
    vscode.commands.registerCommand("tandem.showLog", () => t.showLog()),
    vscode.commands.registerCommand("tandem.forgetFile", (uri?: vscode.Uri) => t.forgetFile(uri)),
    vscode.commands.registerCommand("tandem.restart", () => t.restart()),
    vscode.workspace.onDidChangeConfiguration((e) => t.settingsChanged(e)),
  );
  await t.start();
}

export async function deactivate(): Promise<void> {
  await tandem?.stop();
  tandem = undefined;
}
