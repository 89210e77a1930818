-- wrk script for the portal benchmark (bench/pipeline.py, step 4).
--
-- Every request carries one of the signed-in customers' session cookies, in
-- turn (SESSIONS: a file of session keys, one per line), for the page PAGE.
-- An answer counts as bad unless it is a 200 showing an account number (a
-- sign-in page or an error page has none). At the end one line of JSON:
-- requests, seconds, bad answers, socket errors and latency percentiles.

local sessions = {}
local path = os.getenv("PAGE") or "/portal/dashboard/"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("SESSIONS")) do
    table.insert(sessions, line)
  end
  bad = 0
  turn = math.random(#sessions)
end

function request()
  turn = turn % #sessions + 1
  return wrk.format("GET", path, { ["Cookie"] = "sessionid=" .. sessions[turn] })
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, "Account %u%d+") then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "bad": %d, "socket_errors": %d,'
      .. ' "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
    summary.requests, summary.duration / 1e6, bad_total,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000
  ))
end
