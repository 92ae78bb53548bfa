-- Argo CD health of a CassandraRestore (db.orange.com), whether CassKop or casskeeper runs it.
-- A restore runs once: REQUIRED (a coordinator pod is chosen), then the sidecar's PENDING, RUNNING and
-- COMPLETED, or FAILED/CANCELLED (CassKop's constants spell CANCELED); failureCause[] holds the error of each
-- node; progress "NN%".
-- Written for gopher-lua (Lua 5.1) with only the libraries Argo CD opens for custom checks: base and table,
-- no string library.
local hs = {}

local function causes(condition)
  local list = condition.failureCause
  if list == nil or #list == 0 then
    return ""
  end
  local text = ""
  for i, cause in ipairs(list) do
    if i > 3 then
      return text .. "; and " .. (#list - 3) .. " more"
    end
    local line = cause.message or "no message"
    if cause.source ~= nil and cause.source ~= "" then
      line = cause.source .. ": " .. line
    end
    if text == "" then
      text = ": " .. line
    else
      text = text .. "; " .. line
    end
  end
  return text
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end

local status = obj.status or {}
local condition = status.condition
local state = nil
if condition ~= nil then
  state = condition.type
end
local progress = ""
if status.progress ~= nil and status.progress ~= "" then
  progress = " (" .. status.progress .. ")"
end

if state == nil or state == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the restore to start"
elseif state == "COMPLETED" then
  hs.status = "Healthy"
  hs.message = "Restore completed"
elseif state == "FAILED" or state == "CANCELLED" or state == "CANCELED" then
  hs.status = "Degraded"
  hs.message = "Restore " .. state .. causes(condition)
elseif state == "REQUIRED" then
  hs.status = "Progressing"
  if status.coordinatorMember ~= nil and status.coordinatorMember ~= "" then
    hs.message = "Restore REQUIRED on " .. status.coordinatorMember
  else
    hs.message = "Restore REQUIRED"
  end
elseif state == "PENDING" or state == "RUNNING" then
  hs.status = "Progressing"
  hs.message = "Restore " .. state .. progress
else
  hs.status = "Progressing"
  hs.message = "Restore state " .. state .. progress
end
return hs
