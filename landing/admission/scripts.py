"""Admission's Redis side: the scripts that admit a batch of sign-ups in one call.

Each runs atomically in Redis, so a batch's limits, statuses and bindings never interleave
with another web process's. The gate (landing.admission.gate) runs them (registered once,
then by their SHA).
"""

# One call admits a whole batch, in order. KEYS: for each sign-up its address's counter,
# its phone's, its status, its request_id's binding to a number. ARGV: each limit and its
# window in seconds, the `queued` value and its TTL in ms, then each sign-up's fingerprint.
# Per sign-up, {1, status placed, binding placed} when admitted; {0, seconds to the reset,
# which} if not (which: 0 the address, 1 the number, 2 its request_id is bound to another
# number). Every request counts against its address, as flask-limiter counts; only an
# admitted one against its number, and only once: a request_id is bound to the first number
# admitted with it, for as long as its status lives (a worker renews both when it stores the
# sign-up), and the same id with the same number again is that sign-up again (a retry),
# admitted without counting it a second time. So "binding placed" is also "counted".
ADMIT = """
local answers = {}
for i = 1, #KEYS, 4 do
    local address, phone, status, binding = KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3]
    local fingerprint = ARGV[6 + (i + 3) / 4]
    local hits = redis.call('INCR', address)
    if hits == 1 then
        redis.call('EXPIRE', address, ARGV[2])
    end
    local bound = redis.call('GET', binding)
    if hits > tonumber(ARGV[1]) then
        answers[#answers + 1] = {0, redis.call('TTL', address), 0}
    elseif bound and bound ~= fingerprint then
        answers[#answers + 1] = {0, 0, 2}
    elseif not bound and tonumber(redis.call('GET', phone) or '0') >= tonumber(ARGV[3]) then
        answers[#answers + 1] = {0, redis.call('TTL', phone), 1}
    else
        local binds = 0
        if not bound then
            if redis.call('INCR', phone) == 1 then
                redis.call('EXPIRE', phone, ARGV[4])
            end
            redis.call('SET', binding, fingerprint, 'PX', ARGV[6])
            binds = 1
        end
        if redis.call('EXISTS', status) == 1 then
            answers[#answers + 1] = {1, 0, binds}
        else
            redis.call('LPUSH', status, ARGV[5])
            redis.call('PEXPIRE', status, ARGV[6])
            answers[#answers + 1] = {1, 1, binds}
        end
    end
end
return answers
"""
# A request refused before it became a sign-up (invalid, too large, not JSON) counts against
# its address in the same window: the seconds to the window's reset once past the limit,
# else -1.
COUNT_REFUSED = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if hits > tonumber(ARGV[1]) then
    return redis.call('TTL', KEYS[1])
end
return -1
"""
# A sign-up the broker did not take: its `queued`, its request_id's binding and its number's
# count taken away, each only if this request put it there (a result, an earlier attempt's
# status and a retry's first count stay; its address's count stays, as for any answered
# request).
WITHDRAW = """
if ARGV[2] == '1' then
    redis.call('LREM', KEYS[2], 0, ARGV[1])
end
if ARGV[3] == '1' then
    redis.call('DEL', KEYS[3])
    if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
        redis.call('DECR', KEYS[1])
    end
end
"""
# CHALLENGE_MODE=auto (landing.admission.pressure): count a sign-up against its client
# network's window and everyone's, and say for each whether a challenge is required: 0 no,
# 1 yes, 2 yes and it began just now. KEYS: the network's counter, everyone's, the network's
# held state, everyone's. ARGV: each rate and its window in seconds, the hold in seconds.
# Over a rate, its state is held (or held longer) for the hold: it turns itself off once the
# rate has stayed under for that long.
PRESSURE = """
local function state(counter, limit, window, held, hold)
    local hits = redis.call('INCR', counter)
    if hits == 1 then
        redis.call('EXPIRE', counter, window)
    end
    if hits > tonumber(limit) then
        if redis.call('SET', held, '1', 'EX', hold, 'NX') then
            return 2
        end
        redis.call('EXPIRE', held, hold)
        return 1
    end
    return redis.call('EXISTS', held)
end
return {
    state(KEYS[1], ARGV[1], ARGV[2], KEYS[3], ARGV[5]),
    state(KEYS[2], ARGV[3], ARGV[4], KEYS[4], ARGV[5]),
}
"""
