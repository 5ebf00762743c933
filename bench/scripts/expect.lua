-- A GET of the URL given to wrk (headers from -H, e.g. If-None-Match) that counts every
-- status code, so the runner can check that all answers were the expected one (e.g. 304).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

function response(status, headers, body)
  count_status(status)
end
