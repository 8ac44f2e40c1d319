// Drives a running code-server with Debian's Chromium, as a person would: open a Python
// file, type, wait for Tandem's ghost text, accept it with Tab, save. Prints one JSON
// object (what it saw) on stdout; tests/clients/test_vscode.py asserts on it.
//
//   node vscode_drive.mjs complete URL FILE_NAME OUT_DIR
//   node vscode_drive.mjs not-installed URL FILE_NAME OUT_DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [mode, url, fileName, outDir] = process.argv.slice(2);
if (!["complete", "not-installed"].includes(mode) || !url || !fileName || !outDir) {
  console.error("usage: node vscode_drive.mjs complete|not-installed URL FILE_NAME OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

// What the test types after the last line of the file: a new function whose last line
// starts the way a line in geometry.py does, so the retrieval backend proposes its rest.
const TYPED_HEAD = "\n\ndef span(a: Point, b: Point) -> float:\n";
const TYPED_KEY = "return math.hyp";

const result = { steps: [] };
const step = (name, extra = {}) => {
  result.steps.push({ name, t: Math.round(performance.now()), ...extra });
  console.error(`[drive] ${name} ${JSON.stringify(extra)}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
  ],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const statusItem = page.locator(".statusbar-item", { hasText: "Tandem" }).first();

async function statusLabel() {
  const inner = statusItem.locator("[aria-label]").first();
  const label = (await inner.count()) > 0 ? await inner.getAttribute("aria-label") : null;
  return label ?? (await statusItem.getAttribute("aria-label")) ?? "";
}

// Waits until the item's text and its accessible label (which carries the whole state)
// both match; the label can lag behind the text by a render.
async function waitForStatus(pattern, timeoutMs, { textToo = true } = {}) {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  let label = "";
  while (Date.now() < deadline) {
    if ((await statusItem.count()) > 0) {
      text = (await statusItem.innerText()).trim();
      label = await statusLabel();
      if (pattern.test(label) && (!textToo || pattern.test(text))) return { text, label };
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`status bar never matched ${pattern}; last text ${JSON.stringify(text)}, label ${JSON.stringify(label)}`);
}

async function openFile() {
  const entry = page.getByRole("treeitem", { name: fileName }).first();
  await entry.waitFor({ timeout: 30_000 });
  await entry.click();
  const editor = page.locator(".editor-instance .monaco-editor").first();
  await editor.waitFor({ timeout: 30_000 });
  step("file opened");
  return editor;
}

// Ghost text: VS Code renders an inline suggestion in ghost-text decorations.
const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();

async function ghostWithin(timeoutMs) {
  try {
    await ghost.waitFor({ state: "visible", timeout: timeoutMs });
    return (await ghost.innerText()).replace(/\u00a0/g, " ");
  } catch {
    return null;
  }
}

// Flips a boolean setting in the Settings editor, as a user would, waits until the status
// item shows that the extension has the new value (and has passed it on), then returns to
// the file.
async function toggleSetting(id, statusPattern) {
  await page.keyboard.press("F1");
  await page.keyboard.type("Preferences: Open User Settings", { delay: 10 });
  const first = page.locator(".quick-input-list .monaco-list-row.focused").first();
  await first.waitFor({ timeout: 10_000 });
  const label = await first.getAttribute("aria-label");
  if (!label?.startsWith("Preferences: Open User Settings") || label.includes("JSON")) {
    throw new Error(`the command palette offered ${JSON.stringify(label)} first`);
  }
  await page.keyboard.press("Enter");
  const search = page.locator(".settings-editor .settings-header .suggest-input-container").first();
  await search.waitFor({ timeout: 20_000 });
  await search.click();
  await page.keyboard.type(id, { delay: 10 });
  const checkbox = page.locator(".settings-editor .setting-item-bool .setting-value-checkbox").first();
  await checkbox.waitFor({ timeout: 20_000 });
  await page.waitForTimeout(500); // the search filters as it renders
  await checkbox.click();
  const status = await waitForStatus(statusPattern, 20_000, { textToo: false });
  step(`setting ${id} changed`, status);
  await page.waitForTimeout(500); // the server pulls the settings right after the change
  result.settingsScreenshots = (result.settingsScreenshots ?? 0) + 1;
  await page.screenshot({ path: join(outDir, `vscode-settings-${result.settingsScreenshots}.png`) });
  // Newer VS Code opens Settings as a modal editor: close it, whichever way it opened.
  const modal = page.locator(".monaco-modal-editor-block");
  if ((await modal.count()) > 0) {
    await modal.locator(".codicon-close, [aria-label^='Close']").first().click();
    await modal.waitFor({ state: "detached", timeout: 10_000 });
  }
  await page.locator(".tabs-container .tab", { hasText: fileName }).first().click();
  await page.waitForTimeout(1_000);
}

async function complete() {
  const editor = await openFile();

  // The extension reports indexing, then what the index holds.
  const indexed = await waitForStatus(/\d[\d,]* chunks/, 120_000);
  result.status = indexed.text;
  result.statusLabel = indexed.label;
  step("indexed", indexed);

  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(TYPED_HEAD, { delay: 20 });
  await page.keyboard.press("Home"); // the line's first non-blank: auto-indent is kept
  await page.keyboard.press("End");
  await page.keyboard.type(TYPED_KEY, { delay: 40 });
  step("typed");

  result.ghost = await ghostWithin(30_000);
  if (result.ghost === null) throw new Error("no ghost text appeared");
  step("ghost text", { ghost: result.ghost });
  await page.screenshot({ path: join(outDir, "vscode-ghost-text.png") });

  await page.keyboard.press("Tab");
  await page.waitForTimeout(300);
  await page.keyboard.press("Control+S");
  step("accepted and saved");

  // The item's command reported the acceptance; the status item refreshes after it.
  result.afterAccept = await waitForStatus(/[1-9]\d* accepted/, 20_000, { textToo: false }).catch((e) => ({
    error: String(e),
  }));
  step("status after accept", result.afterAccept);
  await page.screenshot({ path: join(outDir, "vscode-accepted.png") });

  // A settings change reaches the running server: with completions off, the same typing
  // brings no ghost text; back on, it does again.
  await toggleSetting("tandem.completion.enabled", /Completions: off/);
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.type(TYPED_KEY, { delay: 40 });
  result.ghostWhileDisabled = await ghostWithin(5_000);
  step("completions off", { ghost: result.ghostWhileDisabled });
  await toggleSetting("tandem.completion.enabled", /Completions: on/);
  await page.keyboard.press("Backspace");
  await page.keyboard.type("p", { delay: 40 });
  result.ghostReenabled = await ghostWithin(20_000);
  step("completions on", { ghost: result.ghostReenabled });
  await page.keyboard.press("Escape");

  // Clicking the status item offers Tandem's actions; Reindex and Show Log run.
  result.menu = await pickFromStatusMenu("Reindex");
  step("menu", { menu: result.menu });
  result.afterReindex = await waitForStatus(/\d[\d,]* chunks/, 30_000);
  await pickFromStatusMenu("Show Log");
  const output = page.locator(".part.panel .monaco-editor .view-lines").first();
  await output.waitFor({ timeout: 20_000 });
  await page.waitForTimeout(1_000);
  result.log = (await output.innerText()).replace(/\u00a0/g, " ");
  step("log shown");
  result.errors = await page.locator(".notification-toast").allInnerTexts();

  // Forget This File, on geometry.py: after confirming, the index holds fewer chunks.
  const before = Number(/Indexed: (\d+) chunks/.exec(await statusLabel())?.[1]);
  await page.getByRole("treeitem", { name: "geometry.py" }).first().click();
  await page.locator(".tabs-container .tab", { hasText: "geometry.py" }).first().waitFor({ timeout: 20_000 });
  await pickFromStatusMenu("Forget This File");
  const confirm = page.locator(".monaco-dialog-box .monaco-button", { hasText: /^Forget$/ }).first();
  await confirm.waitFor({ timeout: 10_000 });
  await confirm.click();
  const forgot = page.locator(".notification-toast", { hasText: "Tandem forgot geometry.py" }).first();
  await forgot.waitFor({ timeout: 20_000 });
  const fewer = await waitForStatus(/Indexed: \d+ chunks/, 1, { textToo: false });
  let after = Number(/Indexed: (\d+) chunks/.exec(fewer.label)?.[1]);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !(after < before)) {
    await page.waitForTimeout(250);
    after = Number(/Indexed: (\d+) chunks/.exec(await statusLabel())?.[1]);
  }
  result.forget = { before, after };
  step("forgot geometry.py", result.forget);
}

async function pickFromStatusMenu(label) {
  await statusItem.click();
  const rows = page.locator(".quick-input-list .monaco-list-row");
  await rows.first().waitFor({ timeout: 10_000 });
  const labels = (await rows.allInnerTexts()).map((t) => t.split("\n")[0].trim());
  await page.keyboard.type(label, { delay: 10 });
  await page.keyboard.press("Enter");
  return labels;
}

async function notInstalled() {
  await openFile();
  const status = await waitForStatus(/not installed/, 60_000);
  result.status = status.text;
  result.statusLabel = status.label;
  const toast = page.locator(".notification-toast", { hasText: "Tandem is not installed" }).first();
  await toast.waitFor({ timeout: 30_000 });
  result.notification = (await toast.innerText()).replace(/\s+/g, " ");
  step("notification", { notification: result.notification });
  await page.screenshot({ path: join(outDir, "vscode-not-installed.png") });
}

try {
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  step("workbench");
  await (mode === "complete" ? complete() : notInstalled());
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = String(error?.stack ?? error);
  await page.screenshot({ path: join(outDir, "vscode-failure.png") }).catch(() => {});
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
