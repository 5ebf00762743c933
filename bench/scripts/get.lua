-- A plain GET of the URL given to wrk (headers from -H). No response() here: defining it
-- makes wrk parse every response in Lua, which costs throughput. Status codes >= 400 are
-- still counted by wrk itself (errors.status).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
