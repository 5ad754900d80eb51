-- rewrite.lua - the sender rewrite: From, Reply-To, display names, originals.
dofile(top .. "/tests/milter/lib.lua")

-- rewritten - run one message; returns conn after end of message (caller disconnects)
local function rewritten(sender, headers)
    local conn = connect()
    local r = message(conn, sender, {"<ops@example.com>"}, headers)
    if r ~= SMFIR_CONTINUE then error("end of message reply " .. tostring(r)) end
    return conn
end

local function from_is(conn, value, desc)
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", value), desc .. " [" .. value .. "]")
end

test("plain send_as keeps the display name", function()
    local conn = rewritten("<root@host.example>",
        {{"From", "\"Cron Daemon\" <root@host.example>"}, {"Subject", "[Alarm] cron"}})
    from_is(conn, "\"Cron Daemon\" <alerts@contoso.example>", "From: original display name, send_as address")
    check(added(conn, "Reply-To") == "\"Cron Daemon\" <root@host.example>", "Reply-To: the original")
    check(added(conn, "X-Exorelay-Original-From") == "\"Cron Daemon\" <root@host.example>",
          "X-Exorelay-Original-From records the From")
    check(added(conn, "X-Exorelay-Original-Sender") == "<root@host.example>",
          "X-Exorelay-Original-Sender records the envelope sender")
    mt.disconnect(conn)
end)

test("send_as display name wins", function()
    local conn = rewritten("<portal@ise.example.com>", {{"From", "ISE <portal@ise.example.com>"}})
    from_is(conn, "\"Guest Portal\" <portal@contoso.example>", "From: send_as's quoted display name")
    check(added(conn, "Reply-To") == "ISE <portal@ise.example.com>", "Reply-To keeps the original name")
    mt.disconnect(conn)
end)

test("encoded and UTF-8 display names", function()
    local conn = rewritten("<root@host.example>",
        {{"From", "=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <root@host.example>"}, {"Subject", "[Alarm] a"}})
    from_is(conn, "=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <alerts@contoso.example>", "RFC 2047 name intact")
    mt.disconnect(conn)
    conn = rewritten("<root@host.example>",
        {{"From", "J\xC3\xB6rg M\xC3\xBCller <root@host.example>"}, {"Subject", "[Alarm] b"}})
    from_is(conn, "J\xC3\xB6rg M\xC3\xBCller <alerts@contoso.example>", "UTF-8 name intact")
    mt.disconnect(conn)
    conn = rewritten("<root@host.example>", {{"From", "root@host.example (Cron Daemon)"},
                                            {"Subject", "[Alarm] c"}})
    from_is(conn, "Cron Daemon <alerts@contoso.example>", "old-style (comment) name becomes the display name")
    mt.disconnect(conn)
    conn = rewritten("<app@host.example>", {{"From", "app@host.example"}, {"Subject", "x"}})
    from_is(conn, "Notifications <no-reply@contoso.example>", "no original name: send_as's")
    mt.disconnect(conn)
end)

test("non-ASCII send_as is encoded", function()
    local conn = rewritten("<app@host.example>",
        {{"From", "app@host.example"}, {"X-Portal-Event", "sponsor-reminder"}})
    from_is(conn, "=?UTF-8?B?U3BvbnNvcmluZyBHw6RzdGUtV0xBTg==?= <portal@contoso.example>",
            "send_as 'Sponsoring Gäste-WLAN' as an encoded word")
    mt.disconnect(conn)
end)

test("existing Reply-To", function()
    local conn = rewritten("<root@host.example>", {{"From", "root@host.example"},
        {"Reply-To", "noc@example.com"}, {"Subject", "[Alarm] r"}})
    check(not mt.eom_check(conn, MT_HDRADD, "Reply-To"), "an existing Reply-To is kept, none added")
    mt.disconnect(conn)
end)

test("no From header", function()
    local conn = rewritten("<root@host.example>", {{"Subject", "[Alarm] nofrom"}})
    check(added(conn, "From") == "alerts@contoso.example", "a From is added")
    check(added(conn, "Reply-To") == "root@host.example", "Reply-To from the envelope sender")
    mt.disconnect(conn)
end)
