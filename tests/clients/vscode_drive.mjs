// Drives a running code-server with Debian's Chromium, as a person would: open a Python
// file, type, wait for Tandem's ghost text, accept it with Tab, save. Prints one JSON
// object (what it saw) on stdout; tests/clients/test_vscode.py asserts on it.
//
//   node vscode_drive.mjs URL FILE_NAME OUT_DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [url, fileName, outDir] = process.argv.slice(2);
if (!url || !fileName || !outDir) {
  console.error("usage: node vscode_drive.mjs URL FILE_NAME OUT_DIR");
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

try {
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  step("workbench");

  // Open the file from the explorer.
  const entry = page.getByRole("treeitem", { name: fileName }).first();
  await entry.waitFor({ timeout: 30_000 });
  await entry.click();
  const editor = page.locator(".editor-instance .monaco-editor").first();
  await editor.waitFor({ timeout: 30_000 });
  step("file opened");

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

  // Ghost text: VS Code renders an inline suggestion in ghost-text decorations.
  const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();
  await ghost.waitFor({ state: "visible", timeout: 30_000 });
  result.ghost = (await ghost.innerText()).replace(/\u00a0/g, " ");
  step("ghost text", { ghost: result.ghost });
  await page.screenshot({ path: join(outDir, "vscode-ghost-text.png") });

  await page.keyboard.press("Tab");
  await page.waitForTimeout(300);
  await page.keyboard.press("Control+S");
  step("accepted and saved");

  // The item's command reported the acceptance; the status item refreshes after it.
  const accepted = await waitForStatus(/[1-9]\d* accepted/, 20_000, { textToo: false }).catch((e) => ({ error: String(e) }));
  result.afterAccept = accepted;
  step("status after accept", accepted);
  await page.screenshot({ path: join(outDir, "vscode-accepted.png") });
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = String(error?.stack ?? error);
  await page.screenshot({ path: join(outDir, "vscode-failure.png") }).catch(() => {});
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
