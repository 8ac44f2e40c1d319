-- Drives headless Neovim with Tandem's Lua module as a user would: open a Python file,
-- type in insert mode, wait for the ghost text, accept it with <Tab>. Writes what it saw
-- as JSON to $TANDEM_OUT; tests/clients/test_nvim.py asserts on it.
--
--   TANDEM_REPO=... TANDEM_PYTHON=... TANDEM_WORKSPACE=... TANDEM_OUT=... \
--     nvim --headless --clean -n -c "luafile nvim_drive.lua"
--
-- It runs as a coroutine that sleeps through timers, so that Neovim's main loop runs in
-- between and handles the typed keys, autocommands and LSP messages as it would for a user.
local repo = assert(os.getenv("TANDEM_REPO"))
local python = assert(os.getenv("TANDEM_PYTHON"))
local workspace = assert(os.getenv("TANDEM_WORKSPACE"))
local out = assert(os.getenv("TANDEM_OUT"))
local method = os.getenv("TANDEM_METHOD") -- "inline" or "completion"

local result = { steps = {} }
local function step(name)
  table.insert(result.steps, { name = name, ms = math.floor(vim.loop.hrtime() / 1e6) })
  io.stderr:write("[nvim] " .. name .. "\n")
end

local function finish(ok, err)
  result.ok = ok
  result.error = err
  local f = assert(io.open(out, "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qall!")
end

local function fail(message)
  finish(false, message)
end

local co

local function sleep(ms)
  vim.defer_fn(function()
    local ok, err = coroutine.resume(co)
    if not ok then
      finish(false, "driver error: " .. tostring(err))
    end
  end, ms)
  coroutine.yield()
end

local function wait_until(condition, timeout_ms)
  local deadline = vim.loop.now() + timeout_ms
  while not condition() do
    if vim.loop.now() > deadline then
      return false
    end
    sleep(20)
  end
  return true
end

local function main()
  vim.opt.runtimepath:prepend(repo .. "/editors/nvim")
  local tandem = require("tandem")
  tandem.setup({
    cmd = { python, "-m", "server", "serve" },
    init_options = { model = { backend = "retrieval" }, index = { embedder = "none" } },
    debounce_ms = 50,
    inline = method ~= "completion",
  })

  vim.cmd("edit " .. vim.fn.fnameescape(workspace .. "/shapes.py"))
  local bufnr = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[bufnr].filetype

  local ok = wait_until(function()
    local client = tandem.client(bufnr)
    return client ~= nil and client.initialized == true
  end, 30000)
  if not ok then
    return fail("the tandem client never started (filetype " .. result.filetype .. ")")
  end
  step("client started")
  local client = tandem.client(bufnr)
  result.inline_provider = client.server_capabilities.inlineCompletionProvider ~= nil

  -- Wait until the background indexing has stored the workspace.
  local indexed = false
  local deadline = vim.loop.now() + 60000
  while not indexed and vim.loop.now() < deadline do
    local answer
    tandem.command("tandem.status", {}, function(err, status)
      answer = { err = err, status = status }
    end, bufnr)
    wait_until(function()
      return answer ~= nil
    end, 10000)
    local folder = answer and answer.status and answer.status.folders and answer.status.folders[1]
    local chunks = folder and folder.index and folder.index.chunks
    if type(chunks) == "table" then
      chunks = chunks.rows or chunks.count
    end
    if folder and folder.state == "idle" and type(chunks) == "number" and chunks > 0 then
      indexed = true
      result.chunks = chunks
    else
      sleep(250)
    end
  end
  if not indexed then
    return fail("indexing did not finish")
  end
  step("indexed")

  -- The user writes a new function; its last line starts like one in geometry.py.
  local last = vim.api.nvim_buf_line_count(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, last, last, false, {
    "",
    "",
    "def span(a: Point, b: Point) -> float:",
    "    return math.hy",
  })
  -- Append mode at the end, then type one character: TextChangedI asks for a suggestion.
  vim.api.nvim_feedkeys("GAp", "t", false)
  sleep(20)
  result.mode_after_typing = vim.api.nvim_get_mode().mode
  step("typed")

  local ns = vim.api.nvim_create_namespace("tandem")
  local function ghost()
    local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
    for _, mark in ipairs(marks) do
      local details = mark[4]
      if details.virt_text and details.virt_text[1] then
        return details.virt_text[1][1], mark[2], mark[3]
      end
    end
    return nil
  end
  if not wait_until(function()
    return ghost() ~= nil
  end, 20000) then
    return fail("no ghost text appeared")
  end
  local text, row, col = ghost()
  result.ghost = text
  result.method = (tandem.current(bufnr) or {}).method
  result.ghost_at = { row, col }
  step("ghost text")

  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<Tab>", true, false, true), "t", false)
  sleep(50)
  result.mode_after_accept = vim.api.nvim_get_mode().mode
  result.line = vim.api.nvim_buf_get_lines(bufnr, -2, -1, false)[1]
  result.ghost_after_accept = ghost()
  step("accepted")

  -- The item's command reached the server: the acceptance is counted.
  local accepted
  wait_until(function()
    local answer
    tandem.command("tandem.status", {}, function(_, status)
      answer = status
    end, bufnr)
    wait_until(function()
      return answer ~= nil
    end, 5000)
    accepted = answer and answer.signals and answer.signals.accepted
    return type(accepted) == "number" and accepted > 0
  end, 10000)
  result.accepted = accepted
  finish(true)
end

co = coroutine.create(main)
local started, err = coroutine.resume(co)
if not started then
  finish(false, "driver error: " .. tostring(err))
end
