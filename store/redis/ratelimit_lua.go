package redis

// rateLimitLua is limiter.Decide ported to Lua: one call decides up to
// limiter.MaxOps limits all or nothing, in Redis's single thread, at the
// server's clock.
//
// KEYS: one per op. ARGV: now (µs; "" reads TIME), peek ("1"/"0"), and
// the ops' specs packed as little-endian doubles, 8 per op: algorithm,
// quota, period, cost, shadow, penalty base, max, decay. (Three
// arguments instead of 2+8n: Redis parses and allocates per argument.)
// With a fourth argument the call carries several decisions, one after
// the other (see WithScriptBatching). State is a 40-byte struct.pack of five doubles (T, Cur, Prev,
// Level, Until); every value stays below 2^53, so doubles hold it
// exactly, and integer division is corrected so that it never rounds.
// The key's TTL (PX) is the time until its state is no different from a
// fresh key's, so Redis forgets idle keys by itself.
//
// Reply: one string of little-endian doubles (one reply object instead of
// 2+7n): allowed, now, then per op: ok, blocked, remaining, reset, retry,
// remaining-if-not-consumed, reset-if-not-consumed.
const rateLimitLua = `
local floor, ceil, mmax, mmin = math.floor, math.ceil, math.max, math.min
local function idiv(a, b)
  local q = floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end

-- put stores a state with the TTL after which it equals a fresh key's.
local function put(key, now, minttl, alg, per, pd, t, c, p, l, u)
  local exp
  if alg == 0 then exp = t
  elseif alg == 2 then exp = t + per
  else exp = t + 2 * per end
  if l > 0 and pd > 0 then exp = mmax(exp, u + l * pd) end
  exp = mmax(exp, u)
  if exp <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, struct.pack('<ddddd', t, c, p, l, u), 'PX', mmax(idiv(exp - now + 999, 1000), minttl))
  end
end

local tnow
local function servertime()
  if not tnow then
    local t = redis.call('TIME')
    tnow = tonumber(t[1]) * 1000000 + tonumber(t[2])
  end
  return tnow
end

-- clock returns now (µs) and the least TTL (ms). A test's clock: keys must
-- not expire by the server's clock first.
local function clock(arg)
  if arg ~= '' then return tonumber(arg), 3600000 end
  return servertime(), 1
end

-- decide runs one decision: ops k0+1 .. k0+n of KEYS and specs.
local function decide(now, minttl, peek, specs, k0, n)
  -- Per op: the evaluation (ok, blocked, retry, remaining and reset if
  -- consumed or not) and the states to write (s0: not consuming, s1:
  -- consuming; T, Cur, Prev, Level, Until).
  -- E holds them flat, 18 values per op.
  local E = {}
  local allowed = true
  for i = 1, n do
    local alg, quota, period, cost, sh, pb, pm, pd = struct.unpack('<dddddddd', specs, (k0 + i - 1) * 64 + 1)
    local shadow = sh == 1
    local T, cur0, prev0, lvl0, untl0 = 0, 0, 0, 0, 0
    local raw = redis.call('GET', KEYS[k0 + i])
    if raw and #raw == 40 then T, cur0, prev0, lvl0, untl0 = struct.unpack('<ddddd', raw) end
    local lvl, untl = lvl0, untl0
    local pen = pb > 0
    if pen then
      if lvl > 0 and now >= untl then
        local k = idiv(now - untl, pd)
        if k >= lvl then lvl, untl = 0, 0
        elseif k > 0 then lvl = lvl - k; untl = untl + k * pd end
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
      local tat = mmax(T, now)
      rb = mmax(idiv(tau - (tat - now), period), 0)
      sb = tat - now
      if not impossible then
        local nxt = tat + cost * period
        if nxt - now <= tau then
          ok = true
          t1 = nxt
          ru = mmax(idiv(tau - (nxt - now), period), 0)
          su = nxt - now
        else
          retry = nxt - tau - now
        end
      end
    elseif alg == 2 then
      local st = idiv(now, period) * period
      local tn = now
      if T > st then st, tn = T, T end -- a later window is already open
      local cur = 0
      if T == st then cur = cur0 end
      rb = mmax(quota - cur, 0)
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
      local st = idiv(now, w) * w
      local tn = now
      if T > st then st, tn = T, T end
      local cur, prev = 0, 0
      if T == st then cur, prev = cur0, prev0 elseif T == st - w then prev = cur0 end
      local el = tn - st
      local weight = (w - el) / w
      local x = prev * weight
      local est = x + cur
      rb = mmax(floor(quota - est), 0)
      if cur > 0 then sb = 2 * w - el elseif prev > 0 then sb = w - el else sb = 0 end
      if not impossible then
        local estu = x + (cur + cost)
        if estu <= quota then
          ok = true
          t1, c1, p1 = st, cur + cost, prev
          ru = mmax(floor(quota - estu), 0)
          su = 2 * w - el
        else
          if cur + cost > quota then
            retry = w - el + ceil((1 - (quota - cost) / cur) * w)
          else
            retry = ceil((1 - (quota - cost - cur) / prev) * w) - el
          end
          retry = mmax(retry, 1)
        end
      end
    end
    if pen and now < untl then
      ok, blocked = false, true
      retry = untl - now
      rb = 0
      sb = mmax(sb, retry)
    elseif (not ok) and (not impossible) and pen then
      local nl = mmin(lvl + 1, 40)
      local d = pb
      local j = 1
      while j < nl and d < pm do d = d * 2; j = j + 1 end
      d = mmin(d, pm)
      lvl, untl = nl, now + d
      retry = mmax(retry, d)
      sb = mmax(sb, d)
    end
    if impossible and not blocked then retry = 0 end
    if n == 1 then
      -- One limit, the common case: no bookkeeping for all or nothing.
      local adm = ok or shadow
      local rem, reset = rb, sb
      if peek then
      elseif adm and ok then
        put(KEYS[k0 + 1], now, minttl, alg, period, pen and pd or 0, t1, c1, p1, lvl, untl)
        rem, reset = ru, su
      elseif lvl ~= lvl0 or untl ~= untl0 then
        put(KEYS[k0 + 1], now, minttl, alg, period, pen and pd or 0, T, cur0, prev0, lvl, untl)
      end
      return struct.pack('<ddddddddd', adm and 1 or 0, now, ok and 1 or 0, blocked and 1 or 0, rem, reset, ok and 0 or retry, rb, sb)
    end
    local o = (i - 1) * 18
    E[o + 1], E[o + 2], E[o + 3], E[o + 4], E[o + 5], E[o + 6], E[o + 7] = ok, blocked, retry, rb, sb, ru, su
    E[o + 8], E[o + 9], E[o + 10], E[o + 11], E[o + 12], E[o + 13], E[o + 14], E[o + 15] = T, cur0, prev0, lvl, untl, t1, c1, p1
    E[o + 16], E[o + 17], E[o + 18] = lvl ~= lvl0 or untl ~= untl0, alg, period
    E[n * 18 + i] = pen and pd or 0
    if (not ok) and (not shadow) then allowed = false end
  end

  local out = {struct.pack('<dd', allowed and 1 or 0, now)}
  for i = 1, n do
    local o = (i - 1) * 18
    local ok, rem, reset = E[o + 1], E[o + 4], E[o + 5]
    local t, c, p, write = E[o + 8], E[o + 9], E[o + 10], false
    if peek then
    elseif allowed and ok then
      t, c, p, write = E[o + 13], E[o + 14], E[o + 15], true
      rem, reset = E[o + 6], E[o + 7]
    else
      write = E[o + 16]
    end
    if write then
      put(KEYS[k0 + i], now, minttl, E[o + 17], E[o + 18], E[n * 18 + i], t, c, p, E[o + 11], E[o + 12])
    end
    out[i + 1] = struct.pack('<ddddddd', ok and 1 or 0, E[o + 2] and 1 or 0, rem, reset, ok and 0 or E[o + 3], E[o + 4], E[o + 5])
  end
  return table.concat(out)
end

if ARGV[4] == nil then
  local now, minttl = clock(ARGV[1])
  return decide(now, minttl, ARGV[2] == '1', ARGV[3], 0, #KEYS)
end
-- Several decisions in one call (WithScriptBatching): ARGV[4] holds, per
-- decision, its clock (-1: the server's), peek flag and number of ops.
local hdr, out, k0 = ARGV[4], {}, 0
for d = 1, #hdr / 24 do
  local at, pk, n = struct.unpack('<ddd', hdr, (d - 1) * 24 + 1)
  local now, minttl
  if at < 0 then now, minttl = servertime(), 1 else now, minttl = at, 3600000 end
  out[d] = decide(now, minttl, pk == 1, ARGV[3], k0, n)
  k0 = k0 + n
end
return table.concat(out)
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
