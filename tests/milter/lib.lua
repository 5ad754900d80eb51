-- lib.lua - helpers for the miltertest scripts of exorelay-milter.
--
-- Globals from tests/t_milter.sh (miltertest -D): socket (the milter's
-- socket), pid (its process id), tmp (scratch directory).
-- Each check prints one TAP line without a number ("ok - ..."); the shell
-- numbers them. A Lua error inside test() becomes a "not ok" line, since
-- miltertest itself prints nothing when a script fails.

function check(cond, desc)
    print((cond and "ok - " or "not ok - ") .. desc)
    return cond
end

-- test - run fn(); an error is a failed check, not a silent exit
function test(name, fn)
    local good, err = pcall(fn)
    if not good then
        print("not ok - " .. name .. ": " .. tostring(err))
    end
end

function must(result, what)
    if result ~= nil then
        error(what .. ": " .. tostring(result), 2)
    end
end

function connect()
    local conn = mt.connect(socket, 40, 0.25)
    if conn == nil then
        error("cannot connect to " .. socket, 2)
    end
    return conn
end

-- start - MAIL and RCPTs; returns the reply of each RCPT
function start(conn, sender, rcpts, ...)
    must(mt.mailfrom(conn, sender, ...), "mailfrom")
    local replies = {}
    for i, r in ipairs(rcpts) do
        must(mt.rcptto(conn, r), "rcptto " .. r)
        replies[i] = mt.getreply(conn)
    end
    return replies
end

-- finish - the headers ({name, value} pairs), then end of message
function finish(conn, headers)
    for _, h in ipairs(headers) do
        must(mt.header(conn, h[1], h[2]), "header " .. h[1])
    end
    must(mt.eom(conn), "eom")
    return mt.getreply(conn)
end

-- message - a whole message on conn; the end-of-message reply
function message(conn, sender, rcpts, headers)
    start(conn, sender, rcpts)
    return finish(conn, headers)
end

-- added - the value of the n-th (1-based) added header called name, or nil
function added(conn, name, n)
    return mt.getheader(conn, name, (n or 1) - 1)
end

-- untouched - end of message asked for no change at all
function untouched(conn)
    return not mt.eom_check(conn, MT_HDRADD) and not mt.eom_check(conn, MT_HDRCHANGE)
       and not mt.eom_check(conn, MT_HDRDELETE) and not mt.eom_check(conn, MT_HDRINSERT)
end

function sh(cmd)
    local ok = os.execute(cmd)
    if not ok then
        error("command failed: " .. cmd, 2)
    end
end
