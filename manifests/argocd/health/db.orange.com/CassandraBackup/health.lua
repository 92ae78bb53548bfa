-- Argo CD health of a CassandraBackup (db.orange.com), whether CassKop or casskeeper runs it.
-- status.condition.type is the backup sidecar's state verbatim: PENDING, RUNNING, COMPLETED, FAILED,
-- CANCELLED (CassKop's constants spell CANCELED); failureCause[] holds the error of each node; progress "NN%".
-- A one-shot backup is Progressing until it ends. A scheduled one (spec.schedule) is Healthy between runs,
-- Progressing while a run is under way, and Degraded while its last run is a failure.
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

local schedule = nil
if obj.spec ~= nil and obj.spec.schedule ~= nil and obj.spec.schedule ~= "" then
  schedule = obj.spec.schedule
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
  if schedule ~= nil then
    hs.status = "Healthy"
    hs.message = "Scheduled " .. schedule .. "; no run yet"
  else
    hs.status = "Progressing"
    hs.message = "Waiting for the backup to start"
  end
elseif state == "COMPLETED" then
  hs.status = "Healthy"
  if schedule ~= nil then
    hs.message = "Last run completed; scheduled " .. schedule
    if status.nextScheduleTime ~= nil then
      hs.message = hs.message .. ", next run at " .. status.nextScheduleTime
    end
  else
    hs.message = "Backup completed"
  end
elseif state == "FAILED" or state == "CANCELLED" or state == "CANCELED" then
  hs.status = "Degraded"
  if schedule ~= nil then
    hs.message = "Last run " .. state .. causes(condition)
  else
    hs.message = "Backup " .. state .. causes(condition)
  end
elseif state == "PENDING" or state == "RUNNING" then
  hs.status = "Progressing"
  hs.message = "Backup " .. state .. progress
else
  hs.status = "Progressing"
  hs.message = "Backup state " .. state .. progress
end
return hs
