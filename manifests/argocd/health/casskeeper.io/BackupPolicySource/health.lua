-- Argo CD health of a BackupPolicySource (casskeeper.io), from its kstatus status: observedGeneration and the
-- conditions Ready, Reconciling and Stalled that casskeeper writes.
-- Suspended when spec.suspend; Progressing until casskeeper has observed the current generation; then
-- Stalled=True is Degraded, Ready=True Healthy, Ready=False Degraded (the refused revision's errors are in
-- the message and in status.errors), Reconciling=True Progressing, anything else Progressing.
-- Written for gopher-lua (Lua 5.1) with only the libraries Argo CD opens for custom checks: base and table,
-- no string library.
local hs = {}

local function text(condition, fallback)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Suspended: casskeeper does not sync this source"
  return hs
end
if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end

local status = obj.status
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if status == nil or status.observedGeneration == nil or status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for casskeeper to sync the latest spec"
  return hs
end

local ready = nil
local reconciling = nil
local stalled = nil
for _, condition in ipairs(status.conditions or {}) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Reconciling" then
    reconciling = condition
  elseif condition.type == "Stalled" then
    stalled = condition
  end
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = text(stalled, "Stalled")
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready, "Ready")
elseif ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = text(ready, "Not ready")
elseif reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = text(reconciling, "Reconciling")
else
  hs.status = "Progressing"
  if ready ~= nil then
    hs.message = text(ready, "Waiting for casskeeper to sync")
  else
    hs.message = "Waiting for casskeeper to sync"
  end
end
return hs
