-- Tandem for Neovim 0.8+: starts `tandem serve` with vim.lsp.start and shows its
-- suggestions as ghost text (extmarks), accepted with one key.
--
-- Suggestions come from `textDocument/inlineCompletion`, requested by hand because only
-- Neovim 0.12 has a built-in client for it; servers without it fall back to the first
-- `textDocument/completion` item.
--
--   require("tandem").setup({ cmd = { "tandem", "serve" }, accept_key = "<Tab>" })

local M = {}

local uv = vim.uv or vim.loop
local ns = vim.api.nvim_create_namespace("tandem")
local has_inline_virt = vim.fn.has("nvim-0.10") == 1
local method_calls = vim.fn.has("nvim-0.11") == 1 -- client:request() instead of client.request()

M.config = {
  cmd = { "tandem", "serve" },
  -- The server's settings (server/settings.py): { index = {...}, model = {...}, completion = {...} }.
  init_options = vim.empty_dict(),
  accept_key = "<Tab>",
  dismiss_key = "<C-]>",
  -- Filetypes to attach to; nil attaches to every normal file buffer.
  filetypes = nil,
  root_markers = { ".git", ".tandem", "pyproject.toml", "package.json", "go.mod", "Cargo.toml" },
  debounce_ms = 120,
  -- true: always textDocument/inlineCompletion; false: always textDocument/completion;
  -- nil: inline completion when the server offers it.
  inline = nil,
  auto_trigger = true,
  hl_group = "TandemSuggestion",
}

-- Per buffer: { seq = n, tick = changedtick, item = {...}, client_id = n, text = "..." }
local state = {}

local function buf_state(bufnr)
  state[bufnr] = state[bufnr] or { seq = 0 }
  return state[bufnr]
end

local function request(client, method, params, handler, bufnr)
  if method_calls then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function get_client(bufnr)
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  for _, client in ipairs(get({ bufnr = bufnr, name = "tandem" })) do
    return client
  end
  return nil
end

--- The Tandem client attached to a buffer, if any.
M.client = get_client

local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local start = name ~= "" and vim.fs.dirname(name) or uv.cwd()
  local found = vim.fs.find(M.config.root_markers, { upward = true, path = start })[1]
  return found and vim.fs.dirname(found) or start
end

--- Starts (or reuses) the server for a buffer. Returns the client id.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument = capabilities.textDocument or {}
  capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  return vim.lsp.start({
    name = "tandem",
    cmd = M.config.cmd,
    root_dir = root_dir(bufnr),
    init_options = M.config.init_options,
    capabilities = capabilities,
  }, { bufnr = bufnr })
end

--- Removes the ghost text from a buffer.
function M.clear(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
  local s = state[bufnr]
  if s then
    s.item, s.text = nil, nil
  end
end

local function insert_text(item)
  local text = item.insertText or item.label or ""
  if type(text) == "table" then -- a StringValue (snippet): show its plain text
    text = text.value or ""
  end
  return text
end

-- Byte column in `line` for an LSP character offset in the client's encoding.
local function byte_col(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local ok, col = pcall(vim.str_byteindex, line, character, encoding == "utf-16")
  return ok and col or #line
end

-- The part of an item still to be typed at the cursor, or nil when it does not extend
-- what is already there (the range start up to the cursor).
local function ghost_for(bufnr, item, encoding, row, col)
  local text = insert_text(item)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local start_col = col
  local range = item.range or (item.textEdit and (item.textEdit.range or item.textEdit.replace))
  if item.textEdit and item.textEdit.newText then
    text = item.textEdit.newText
  end
  if range and range.start.line == row then
    start_col = byte_col(line, range.start.character, encoding)
  end
  local typed = line:sub(start_col + 1, col)
  if text:sub(1, #typed) ~= typed then
    return nil
  end
  local rest = text:sub(#typed + 1)
  if rest == "" then
    return nil
  end
  return rest, start_col
end

local function show(bufnr, text, row, col)
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local lines = vim.split(text, "\n", { plain = true })
  local opts = {
    virt_text = { { lines[1], M.config.hl_group } },
    virt_text_pos = has_inline_virt and "inline" or "overlay",
    hl_mode = "combine",
  }
  if #lines > 1 then
    local virt_lines = {}
    for i = 2, #lines do
      table.insert(virt_lines, { { lines[i], M.config.hl_group } })
    end
    opts.virt_lines = virt_lines
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, row, col, opts)
end

local function first_item(result)
  if result == nil then
    return nil
  end
  local items = result.items or result
  if type(items) ~= "table" then
    return nil
  end
  return items[1]
end

--- Asks the server for a suggestion at the cursor and shows it. `callback(text|nil, item)`
--- runs when the answer is in (nil: nothing to suggest). Uses inline completion when the
--- server offers it, else completion.
function M.suggest(bufnr, callback)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  callback = callback or function() end
  local client = get_client(bufnr)
  if not client then
    callback(nil)
    return
  end
  local s = buf_state(bufnr)
  s.seq = s.seq + 1
  local seq, tick = s.seq, vim.api.nvim_buf_get_changedtick(bufnr)
  local win = vim.api.nvim_get_current_win()
  local cursor = vim.api.nvim_win_get_cursor(win)
  local row, col = cursor[1] - 1, cursor[2]
  local encoding = client.offset_encoding or "utf-16"
  local params = vim.lsp.util.make_position_params(win, encoding)
  local caps = client.server_capabilities or {}
  local inline = M.config.inline
  if inline == nil then
    inline = caps.inlineCompletionProvider ~= nil
  end
  local method = "textDocument/inlineCompletion"
  if inline then
    params.context = { triggerKind = 2 } -- Automatic
  else
    method = "textDocument/completion"
    params.context = { triggerKind = 1 }
  end
  request(client, method, params, function(err, result)
    if err or s.seq ~= seq or not vim.api.nvim_buf_is_valid(bufnr) then
      callback(nil)
      return
    end
    if vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
      callback(nil) -- typed since: a newer request is on its way
      return
    end
    local item = first_item(result)
    local text = item and ghost_for(bufnr, item, encoding, row, col)
    if not text then
      M.clear(bufnr)
      callback(nil)
      return
    end
    s.item, s.text, s.row, s.col, s.client_id, s.method = item, text, row, col, client.id, method
    show(bufnr, text, row, col)
    callback(text, item)
  end, bufnr)
end

--- The suggestion shown in a buffer: `{ text = ..., method = ... }`, or nil.
function M.current(bufnr)
  local s = state[bufnr or vim.api.nvim_get_current_buf()]
  if not (s and s.text) then
    return nil
  end
  return { text = s.text, method = s.method }
end

--- Inserts the shown suggestion and reports the acceptance to the server (the item's
--- command). Returns false when nothing was shown, so the key keeps its usual meaning.
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local s = state[bufnr]
  if not (s and s.text) then
    return false
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  if cursor[1] - 1 ~= s.row or cursor[2] ~= s.col then
    M.clear(bufnr)
    return false
  end
  local item, text, row, col = s.item, s.text, s.row, s.col
  M.clear(bufnr)
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local last_row = row + #lines - 1
  local last_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, last_col })
  local client = vim.lsp.get_client_by_id(s.client_id)
  if client and item.command then
    request(client, "workspace/executeCommand", {
      command = item.command.command,
      arguments = item.command.arguments,
    }, function() end, bufnr)
  end
  return true
end

--- Runs a server command (`tandem.status`, `tandem.reindex`, ...); `callback(err, result)`.
function M.command(name, arguments, callback, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = get_client(bufnr)
  if not client then
    if callback then
      callback("tandem is not running for this buffer", nil)
    end
    return
  end
  request(client, "workspace/executeCommand", { command = name, arguments = arguments or {} },
    function(err, result)
      if callback then
        callback(err, result)
      end
    end, bufnr)
end

local timers = {}

local function schedule_suggest(bufnr)
  local timer = timers[bufnr]
  if not timer then
    timer = uv.new_timer()
    timers[bufnr] = timer
  end
  timer:stop()
  timer:start(M.config.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_get_mode().mode:sub(1, 1) == "i"
      and bufnr == vim.api.nvim_get_current_buf() then
      M.suggest(bufnr)
    end
  end))
end

local function feed(key)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(key, true, false, true), "n", false)
end

local function attach(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return
  end
  local fts = M.config.filetypes
  if fts and not vim.tbl_contains(fts, vim.bo[bufnr].filetype) then
    return
  end
  if not M.start(bufnr) then
    return
  end
  local group = vim.api.nvim_create_augroup("tandem_buf_" .. bufnr, { clear = true })
  if M.config.auto_trigger then
    vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
      group = group,
      buffer = bufnr,
      callback = function()
        M.clear(bufnr)
        schedule_suggest(bufnr)
      end,
    })
  end
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
    end,
  })
  vim.keymap.set("i", M.config.accept_key, function()
    if not M.accept(bufnr) then
      feed(M.config.accept_key)
    end
  end, { buffer = bufnr, desc = "Tandem: accept the suggestion" })
  if M.config.dismiss_key then
    vim.keymap.set("i", M.config.dismiss_key, function()
      M.clear(bufnr)
    end, { buffer = bufnr, desc = "Tandem: dismiss the suggestion" })
  end
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", M.config, opts or {})
  vim.api.nvim_set_hl(0, "TandemSuggestion", { link = "Comment", default = true })
  local group = vim.api.nvim_create_augroup("tandem", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    callback = function(args)
      attach(args.buf)
    end,
  })
  vim.api.nvim_create_user_command("TandemStatus", function()
    M.command("tandem.status", {}, function(err, result)
      print(err and ("tandem: " .. vim.inspect(err)) or vim.inspect(result))
    end)
  end, { desc = "Show what Tandem's index holds and the model in use" })
  vim.api.nvim_create_user_command("TandemReindex", function()
    M.command("tandem.reindex", {})
  end, { desc = "Index the workspace again" })
  vim.api.nvim_create_user_command("TandemForget", function()
    M.command("tandem.forget", { vim.api.nvim_buf_get_name(0) })
  end, { desc = "Remove this file from Tandem's index" })
  -- Buffers already open when setup() runs.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" then
      attach(bufnr)
    end
  end
end

return M
