/**
 * Which Python runs the server, and whether Tandem is importable there: checked before
 * starting the client so that a missing install gives a message with a fix, not a
 * crashed language server and a stack trace in the log.
 */
import { execFile } from "node:child_process";
import * as vscode from "vscode";

export interface Interpreter {
  path: string;
  source: "tandem.pythonPath" | "Python extension" | "default";
}

/** `tandem.pythonPath`; else the Python extension's active interpreter; else `python3`. */
export async function resolveInterpreter(resource?: vscode.Uri): Promise<Interpreter> {
  const configured = vscode.workspace.getConfiguration("tandem").get<string>("pythonPath", "");
  if (configured.trim() !== "") return { path: configured.trim(), source: "tandem.pythonPath" };
  const fromExtension = await pythonExtensionInterpreter(resource);
  if (fromExtension) return { path: fromExtension, source: "Python extension" };
  return { path: "python3", source: "default" };
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path?: string } | undefined;
  };
  settings?: {
    getExecutionDetails?: (resource?: vscode.Uri) => { execCommand?: string[] } | undefined;
  };
}

async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const active = api?.environments?.getActiveEnvironmentPath?.(resource)?.path;
    if (active) return active;
    const exec = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
    return exec && exec.length > 0 ? exec[0] : undefined;
  } catch {
    return undefined; // the Python extension failing must not keep Tandem from starting
  }
}

export interface InstallCheck {
  ok: boolean;
  detail: string;
}

/** Runs `python -c "import server.cli"` in the directory the server will run in (the
 *  current directory is on `sys.path` for both): cheap (no torch), and it fails exactly
 *  when `python -m server serve` would. */
export function checkTandemInstalled(
  python: string,
  env: NodeJS.ProcessEnv,
  cwd: string | undefined,
): Promise<InstallCheck> {
  return new Promise((resolve) => {
    execFile(
      python,
      ["-c", "import server.cli"],
      { env, cwd, timeout: 30_000 },
      (error, _stdout, stderr) => {
        if (!error) {
          resolve({ ok: true, detail: "" });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          resolve({ ok: false, detail: `no program named "${python}" was found` });
          return;
        }
        const lines = String(stderr).trim().split("\n");
        resolve({ ok: false, detail: lines[lines.length - 1] || error.message });
      },
    );
  });
}
