-- POST /v1/articles with 8 attributed claims, a unique slug per request:
--   wrk … -s post_article.lua http://127.0.0.1:PORT/v1/articles -- RUN_TOKEN
-- The write key comes from the environment (BENCH_API_KEY), so it never appears in a
-- command line. The slug is made of the run token, the thread's number, a per-thread
-- counter and a random number; every status code is counted so the runner can check that
-- each answer was 201.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local SOURCES = {
  '{"kind": "person", "name": "Maria Lindqvist"}',
  '{"kind": "government", "name": "Ministry of Transport"}',
  '{"kind": "organization", "name": "Harbour Workers Union"}',
  '{"kind": "publication", "name": "The Evening Ledger"}',
  '{"kind": "person", "name": "Tomas Vrell"}',
  '{"kind": "organization", "name": "Port Authority"}',
  '{"kind": "government", "name": "City Council"}',
  '{"kind": "person", "name": "Anna Berg"}',
}
local ROLES = {
  "asserted_by", "confirmed_by", "asserted_by", "reported_by",
  "asserted_by", "denied_by", "confirmed_by", "asserted_by",
}
local CUES = { "said", "confirmed", "said", "reported", "said", "denied", "confirmed", "said" }

local FILLER = "The harbour has been the city's busiest since the new rail link opened, and "
  .. "traffic through its northern gate has doubled in three years. Residents of the "
  .. "waterfront district have long asked for a second access road. "

local template, token, counter

-- The article body is 8 claim sentences with filler paragraphs between them; each claim is
-- anchored on its sentence and attributed to one source, given inline.
local function build_template()
  local paragraphs, claims = {}, {}
  for i = 1, 8 do
    local sentence = string.format(
      "Sailings on route %d will resume on Monday after %d weeks of repairs.", i, i + 2)
    table.insert(paragraphs, FILLER .. sentence)
    table.insert(claims, string.format(
      '{"statement": "%s", "anchor": {"exact": "%s"}, '
        .. '"attributions": [{"source": %s, "role": "%s", "cue": "%s"}]}',
      sentence, sentence, SOURCES[i], ROLES[i], CUES[i]))
  end
  -- Only the two %%s placeholders (slug, headline number) remain for each request.
  return '{"slug": "%s", "headline": "Ferry routes reopen after repairs %s", '
    .. '"deck": "Eight routes return to service, officials said.", '
    .. '"section": "bench", "tags": ["ferries", "transport"], '
    .. '"authors": [{"name": "Bench Writer"}], '
    .. '"body": "' .. table.concat(paragraphs, "\\n\\n") .. '", '
    .. '"claims": [' .. table.concat(claims, ", ") .. ']}'
end

function init(args)
  token = args[1] or tostring(os.time())
  counter = 0
  math.randomseed(os.time() * 1000 + (id or 0))
  template = build_template()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_API_KEY") or "")
end

function request()
  counter = counter + 1
  local slug = string.format(
    "bench-%s-%d-%d-%d", token, id or 0, counter, math.random(0, 999999999))
  return wrk.format(nil, nil, nil, string.format(template, slug, slug))
end

function response(status, headers, body)
  count_status(status)
end
