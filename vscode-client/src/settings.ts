/**
 * The extension's `tandem.*` settings, translated into the server's schema
 * (server/settings.py: sections index, model, completion, snake_case keys).
 * One translation serves initializationOptions, didChangeConfiguration and
 * workspace/configuration, so the three can never disagree.
 */
import * as vscode from "vscode";

export interface ServerSettings {
  index: { db?: string; embedder: string; exclude: string[] };
  model: {
    backend: string;
    model: string;
    adapter?: string;
    openai_base_url?: string;
    openai_model?: string;
  };
  completion: { enabled: boolean; multiline: string };
}

/** A string setting, or undefined when empty (the server then keeps its default). */
function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value.trim() === "" ? undefined : value;
}

export function serverSettings(
  config: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration("tandem"),
): ServerSettings {
  const settings: ServerSettings = {
    index: {
      embedder: config.get<string>("index.embedder", "minilm"),
      exclude: config.get<string[]>("index.exclude", []),
    },
    model: {
      backend: config.get<string>("model.backend", "transformers"),
      model: config.get<string>("model.model", "smollm2"),
    },
    completion: {
      enabled: config.get<boolean>("completion.enabled", true),
      multiline: config.get<string>("completion.multiline", "auto"),
    },
  };
  const db = nonEmpty(config.get<string | null>("index.db"));
  if (db !== undefined) settings.index.db = db;
  const adapter = nonEmpty(config.get<string | null>("model.adapter"));
  if (adapter !== undefined) settings.model.adapter = adapter;
  const baseUrl = nonEmpty(config.get<string>("model.openaiBaseUrl"));
  if (baseUrl !== undefined) settings.model.openai_base_url = baseUrl;
  const openaiModel = nonEmpty(config.get<string>("model.openaiModel"));
  if (openaiModel !== undefined) settings.model.openai_model = openaiModel;
  return settings;
}
