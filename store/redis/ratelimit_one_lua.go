package redis

// rateLimitOneLua decides exactly one limit (one key): the common case,
// a request under a single limit. It is rateLimitLua's decide for n == 1
// written out straight, with the same arguments (KEYS[1]; ARGV: now or "",
// peek, the spec's eight doubles), the same 40-byte state and TTL, and
// the same reply, so that either script may decide a key the other
// decided before; TestOneScriptMatchesGeneral runs both on random
// sequences and compares their replies and states byte for byte.
//
// Why a second script: on the Redis server a decision's cost is mostly
// fixed overheads (the EVALSHA itself, TIME, GET and SET through
// redis.call) and the Lua the general script runs to be general: five
// closures and a table created per call, and the all-or-nothing
// bookkeeping. Written out for one limit, the script costs the server
// about a quarter less (store/redis doc.go, "Cost").
const rateLimitOneLua = `
local floor = math.floor
local alg, quota, period, cost, sh, pb, pm, pd = struct.unpack('<dddddddd', ARGV[3])
local now, minttl
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now, minttl = tonumber(t[1]) * 1000000 + tonumber(t[2]), 1
else
  now, minttl = tonumber(ARGV[1]), 3600000
end
local key = KEYS[1]
local T, cur0, prev0, lvl0, untl0 = 0, 0, 0, 0, 0
local raw = redis.call('GET', key)
if raw and #raw == 40 then T, cur0, prev0, lvl0, untl0 = struct.unpack('<ddddd', raw) end
local lvl, untl = lvl0, untl0
local pen = pb > 0
local q
if pen then
  if lvl > 0 and now >= untl then
    local a = now - untl
    q = floor(a / pd)
    if q * pd > a then q = q - 1 elseif (q + 1) * pd <= a then q = q + 1 end
    if q >= lvl then lvl, untl = 0, 0
    elseif q > 0 then lvl = lvl - q; untl = untl + q * pd end
  end
elseif lvl ~= 0 or untl ~= 0 then
  lvl, untl = 0, 0
end
local ok, blocked, retry = false, false, 0
local rb, sb, ru, su = 0, 0, 0, 0
local t1, c1, p1 = T, cur0, prev0
local impossible = cost > quota
if alg == 0 then
  local tau = quota * period
  local tat = T
  if tat < now then tat = now end
  local a = tau - (tat - now)
  q = floor(a / period)
  if q * period > a then q = q - 1 elseif (q + 1) * period <= a then q = q + 1 end
  if q > 0 then rb = q end
  sb = tat - now
  if not impossible then
    local nxt = tat + cost * period
    if nxt - now <= tau then
      ok = true
      t1 = nxt
      a = tau - (nxt - now)
      q = floor(a / period)
      if q * period > a then q = q - 1 elseif (q + 1) * period <= a then q = q + 1 end
      if q > 0 then ru = q end
      su = nxt - now
    else
      retry = nxt - tau - now
    end
  end
else
  q = floor(now / period)
  if q * period > now then q = q - 1 elseif (q + 1) * period <= now then q = q + 1 end
  local st = q * period
  local tn = now
  if T > st then st, tn = T, T end -- a later window is already open
  if alg == 2 then
    local cur = 0
    if T == st then cur = cur0 end
    rb = quota - cur
    if rb < 0 then rb = 0 end
    sb = st + period - tn
    if not impossible then
      if cur + cost <= quota then
        ok = true
        t1, c1, p1 = st, cur + cost, 0
        ru, su = quota - cur - cost, sb
      else
        retry = sb
      end
    end
  else
    local w = period
    local cur, prev = 0, 0
    if T == st then cur, prev = cur0, prev0 elseif T == st - w then prev = cur0 end
    local el = tn - st
    local x = prev * ((w - el) / w)
    local est = x + cur
    rb = floor(quota - est)
    if rb < 0 then rb = 0 end
    if cur > 0 then sb = 2 * w - el elseif prev > 0 then sb = w - el else sb = 0 end
    if not impossible then
      local estu = x + (cur + cost)
      if estu <= quota then
        ok = true
        t1, c1, p1 = st, cur + cost, prev
        ru = floor(quota - estu)
        if ru < 0 then ru = 0 end
        su = 2 * w - el
      else
        if cur + cost > quota then
          retry = w - el + math.ceil((1 - (quota - cost) / cur) * w)
        else
          retry = math.ceil((1 - (quota - cost - cur) / prev) * w) - el
        end
        if retry < 1 then retry = 1 end
      end
    end
  end
end
if pen and now < untl then
  ok, blocked = false, true
  retry = untl - now
  rb = 0
  if retry > sb then sb = retry end
elseif (not ok) and (not impossible) and pen then
  local nl = lvl + 1
  if nl > 40 then nl = 40 end
  local d = pb
  local j = 1
  while j < nl and d < pm do d = d * 2; j = j + 1 end
  if d > pm then d = pm end
  lvl, untl = nl, now + d
  if d > retry then retry = d end
  if d > sb then sb = d end
end
if impossible and not blocked then retry = 0 end
local adm = ok or sh == 1
local rem, reset = rb, sb
local write = false
if ARGV[2] == '1' then
elseif adm and ok then
  write = true
  rem, reset = ru, su
elseif lvl ~= lvl0 or untl ~= untl0 then
  write = true
  t1, c1, p1 = T, cur0, prev0
end
if write then
  -- The TTL after which the state equals a fresh key's.
  local exp
  if alg == 0 then exp = t1
  elseif alg == 2 then exp = t1 + period
  else exp = t1 + 2 * period end
  if pen and lvl > 0 and pd > 0 and untl + lvl * pd > exp then exp = untl + lvl * pd end
  if untl > exp then exp = untl end
  if exp <= now then
    redis.call('DEL', key)
  else
    local a = exp - now + 999
    q = floor(a / 1000)
    if q * 1000 > a then q = q - 1 elseif (q + 1) * 1000 <= a then q = q + 1 end
    if q < minttl then q = minttl end
    redis.call('SET', key, struct.pack('<ddddd', t1, c1, p1, lvl, untl), 'PX', q)
  end
end
return struct.pack('<ddddddddd', adm and 1 or 0, now, ok and 1 or 0, blocked and 1 or 0, rem, reset, ok and 0 or retry, rb, sb)
`
