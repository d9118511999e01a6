package redis

// rateLimitLua is limiter.Decide ported to Lua: one call decides up to
// limiter.MaxOps limits all or nothing, in Redis's single thread, at the
// server's clock.
//
// KEYS: one per op. ARGV: now (µs; "" reads TIME), peek ("1"/"0"), then
// per op: algorithm, quota, period, cost, shadow, penalty base, max,
// decay. State is a 40-byte struct.pack of five doubles (T, Cur, Prev,
// Level, Until); every value stays below 2^53, so doubles hold it
// exactly, and integer division is corrected so that it never rounds.
// The key's TTL (PX) is the time until its state is no different from a
// fresh key's, so Redis forgets idle keys by itself.
//
// Reply: {allowed, now, then per op: ok, blocked, remaining, reset,
// retry, remaining-if-not-consumed, reset-if-not-consumed}.
const rateLimitLua = `
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local function wstart(now, w) return idiv(now, w) * w end
local function sest(prev, cur, w, el)
  local weight = (w - el) / w
  local x = prev * weight
  return x + cur
end
local function sreset(cur, prev, w, el)
  if cur > 0 then return 2 * w - el end
  if prev > 0 then return w - el end
  return 0
end

local now
local minttl = 1
if ARGV[1] ~= '' then
  -- A test's clock: keys must not expire by the server's clock first.
  now = tonumber(ARGV[1])
  minttl = 3600000
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local peek = ARGV[2] == '1'
local n = #KEYS
local ev = {}
local allowed = true
for i = 1, n do
  local a = 2 + (i - 1) * 8
  local alg, quota, period, cost = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local shadow = ARGV[a + 5] == '1'
  local pb, pm, pd = tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8])
  local T, cur0, prev0, lvl, untl = 0, 0, 0, 0, 0
  local raw = redis.call('GET', KEYS[i])
  if raw and #raw == 40 then T, cur0, prev0, lvl, untl = struct.unpack('<ddddd', raw) end
  local orig = {T, cur0, prev0, lvl, untl}
  local pen = pb > 0
  if pen and lvl > 0 and now >= untl then
    local k = idiv(now - untl, pd)
    if k >= lvl then lvl, untl = 0, 0
    elseif k > 0 then lvl = lvl - k; untl = untl + k * pd end
  end
  if (not pen) and (lvl ~= 0 or untl ~= 0) then lvl, untl = 0, 0 end
  local e = {ok = false, blocked = false, retry = 0, remUsed = 0, resetUsed = 0}
  e.base = {T, cur0, prev0, lvl, untl}
  local impossible = cost > quota
  if alg == 0 then
    local tau = quota * period
    local tat = math.max(T, now)
    e.remBase = math.max(idiv(tau - (tat - now), period), 0)
    e.resetBase = tat - now
    if not impossible then
      local nxt = tat + cost * period
      if nxt - now <= tau then
        e.ok = true
        e.used = {nxt, cur0, prev0, lvl, untl}
        e.remUsed = math.max(idiv(tau - (nxt - now), period), 0)
        e.resetUsed = nxt - now
      else
        e.retry = nxt - tau - now
      end
    end
  elseif alg == 2 then
    local st = wstart(now, period)
    local cur = 0
    if T == st then cur = cur0 end
    e.remBase = math.max(quota - cur, 0)
    e.resetBase = st + period - now
    if not impossible then
      if cur + cost <= quota then
        e.ok = true
        e.used = {st, cur + cost, 0, lvl, untl}
        e.remUsed = quota - cur - cost
        e.resetUsed = e.resetBase
      else
        e.retry = st + period - now
      end
    end
  else
    local w = period
    local st = wstart(now, w)
    local cur, prev = 0, 0
    if T == st then cur, prev = cur0, prev0 elseif T == st - w then prev = cur0 end
    local el = now - st
    local est = sest(prev, cur, w, el)
    e.remBase = math.max(math.floor(quota - est), 0)
    e.resetBase = sreset(cur, prev, w, el)
    if not impossible then
      local estu = sest(prev, cur + cost, w, el)
      if estu <= quota then
        e.ok = true
        e.used = {st, cur + cost, prev, lvl, untl}
        e.remUsed = math.max(math.floor(quota - estu), 0)
        e.resetUsed = sreset(cur + cost, prev, w, el)
      else
        if cur + cost > quota then
          local need = 1 - (quota - cost) / cur
          e.retry = w - el + math.ceil(need * w)
        else
          local need = 1 - (quota - cost - cur) / prev
          e.retry = math.ceil(need * w) - el
        end
        e.retry = math.max(e.retry, 1)
      end
    end
  end
  if pen and now < untl then
    e.ok, e.blocked = false, true
    e.retry = untl - now
    e.remBase = 0
    e.resetBase = math.max(e.resetBase, e.retry)
  elseif (not e.ok) and (not impossible) and pen then
    local nl = math.min(lvl + 1, 40)
    local d = pb
    local j = 1
    while j < nl and d < pm do d = d * 2; j = j + 1 end
    d = math.min(d, pm)
    e.base[4], e.base[5] = nl, now + d
    e.retry = math.max(e.retry, d)
    e.resetBase = math.max(e.resetBase, d)
  end
  if impossible and not e.blocked then e.retry = 0 end
  e.alg, e.period, e.pen, e.pd, e.orig = alg, period, pen, pd, orig
  ev[i] = e
  if (not e.ok) and (not shadow) then allowed = false end
end

local out = {allowed and 1 or 0, now}
for i = 1, n do
  local e = ev[i]
  local s = nil
  local rem, reset = e.remBase, e.resetBase
  if allowed and e.ok and not peek then
    s = e.used
    rem, reset = e.remUsed, e.resetUsed
  elseif not peek then
    local b, o = e.base, e.orig
    if b[1] ~= o[1] or b[2] ~= o[2] or b[3] ~= o[3] or b[4] ~= o[4] or b[5] ~= o[5] then s = b end
  end
  if s then
    local exp
    if e.alg == 0 then exp = s[1]
    elseif e.alg == 2 then exp = s[1] + e.period
    else exp = s[1] + 2 * e.period end
    if s[4] > 0 and e.pen then exp = math.max(exp, s[5] + s[4] * e.pd) end
    exp = math.max(exp, s[5])
    if exp <= now then
      redis.call('DEL', KEYS[i])
    else
      redis.call('SET', KEYS[i], struct.pack('<ddddd', s[1], s[2], s[3], s[4], s[5]), 'PX', math.max(idiv(exp - now + 999, 1000), minttl))
    end
  end
  local n0 = #out
  out[n0 + 1] = e.ok and 1 or 0
  out[n0 + 2] = e.blocked and 1 or 0
  out[n0 + 3] = rem
  out[n0 + 4] = reset
  out[n0 + 5] = e.ok and 0 or e.retry
  out[n0 + 6] = e.remBase
  out[n0 + 7] = e.resetBase
end
return out
`

// rateLimitRefundLua gives back what ops committed at time ARGV[1] took,
// for Cluster decisions whose ops span slots and were denied in another
// slot (limiter.Spec.Refund). ARGV: at, then per op: algorithm, period,
// cost. The keys keep their TTL.
const rateLimitRefundLua = `
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local at = tonumber(ARGV[1])
for i = 1, #KEYS do
  local a = 1 + (i - 1) * 3
  local alg, period, cost = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local raw = redis.call('GET', KEYS[i])
  if raw and #raw == 40 then
    local T, cur, prev, lvl, untl = struct.unpack('<ddddd', raw)
    if alg == 0 then
      T = T - cost * period
    else
      local st = idiv(at, period) * period
      if T == st then cur = math.max(cur - cost, 0)
      elseif T == st + period and alg == 1 then prev = math.max(prev - cost, 0) end
    end
    redis.call('SET', KEYS[i], struct.pack('<ddddd', T, cur, prev, lvl, untl), 'KEEPTTL')
  end
end
return #KEYS
`
