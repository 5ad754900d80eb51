-- classify.lua - negotiation, every rule kind, first match, local-only mail.
dofile(top .. "/tests/milter/lib.lua")

local ALARM = "class=alarm; account=main"

test("negotiation", function()
    local conn = connect()
    check(mt.test_action(conn, SMFIF_CHGFROM) and mt.test_action(conn, SMFIF_ADDHDRS)
          and mt.test_action(conn, SMFIF_CHGHDRS), "asks to add/change headers and the sender")
    check(not mt.test_action(conn, SMFIF_ADDRCPT) and not mt.test_action(conn, SMFIF_CHGBODY)
          and not mt.test_action(conn, SMFIF_QUARANTINE), "asks for no other action")
    check(mt.test_option(conn, SMFIP_NOBODY) and mt.test_option(conn, SMFIP_NOHELO)
          and mt.test_option(conn, SMFIP_NOEOH) and mt.test_option(conn, SMFIP_NODATA)
          and mt.test_option(conn, SMFIP_NOUNKNOWN) and not mt.test_option(conn, SMFIP_NOCONNECT),
          "skips HELO, DATA, end of headers, body, unknown commands")
    check(mt.test_option(conn, SMFIP_NR_CONN) and mt.test_option(conn, SMFIP_NR_HDR)
          and mt.test_option(conn, SMFIP_NR_MAIL), "no reply needed for connect, MAIL and headers")
    mt.disconnect(conn)
end)

-- class_of - the X-Exorelay tag end of message added for this message
local function class_of(sender, rcpts, headers)
    local conn = connect()
    local r = message(conn, sender, rcpts, headers)
    local tag = added(conn, "X-Exorelay")
    local second = added(conn, "X-Exorelay", 2)
    mt.disconnect(conn)
    if r ~= SMFIR_CONTINUE then return "reply " .. tostring(r) end
    if second ~= nil then return "two tags" end
    return tag
end

test("match_from and match_subject", function()
    local t = class_of("<root@host.example>", {"<ops@example.com>"},
                       {{"From", "root@host.example"}, {"Subject", "[Alarm] disk full"}})
    check(t == ALARM, "envelope glob + subject ERE: " .. tostring(t))
    t = class_of("<NAGIOS@Mon.Example>", {"<ops@example.com>"},
                 {{"From", "nagios@mon.example"}, {"Subject", "[Alarm] load"}})
    check(t == ALARM, "globs ignore case: " .. tostring(t))
    t = class_of("<root@host.example>", {"<ops@example.com>"},
                 {{"From", "root@host.example"}, {"Subject", "daily report"}})
    check(t == "class=default; account=main", "subject not matching: the default class: " .. tostring(t))
end)

test("match_from on the From address", function()
    local t = class_of("<bounce-123@mta.example>", {"<guest@example.org>"},
                       {{"From", "ISE <portal@ise.example.com>"}, {"Subject", "Your guest account"}})
    check(t == "class=guest; account=portal", "From header glob, other account: " .. tostring(t))
end)

test("match_header", function()
    local t = class_of("<app@host.example>", {"<boss@example.com>"},
                       {{"From", "app@host.example"}, {"x-portal-event", "sponsor-approval"}})
    check(t == "class=sponsor; account=portal", "header name any case, ERE on value: " .. tostring(t))
    t = class_of("<app@host.example>", {"<boss@example.com>"},
                 {{"From", "app@host.example"}, {"X-Portal-Event", "guest-created"}})
    check(t == "class=default; account=main", "header value not matching: " .. tostring(t))
end)

test("first match wins", function()
    -- matches alarm (sender + subject) and guest (From): alarm comes first
    local t = class_of("<root@host.example>", {"<ops@example.com>"},
                       {{"From", "portal@ise.example.com"}, {"Subject", "[Alarm] x"}})
    check(t == ALARM, "file order decides: " .. tostring(t))
end)

test("local-only mail", function()
    local conn = connect()
    local r = message(conn, "<root@host.example>", {"<root@localhost>", "<ops@host.example>", "<postmaster>"},
                      {{"From", "root@host.example"}, {"Subject", "[Alarm] local"},
                       {"X-Exorelay", "class=alarm; account=main"}})
    check(r == SMFIR_CONTINUE and untouched(conn), "local recipients only: untouched, even its tag")
    r = message(conn, "<root@host.example>", {"<root@localhost>", "<ops@example.com>"},
                {{"From", "root@host.example"}, {"Subject", "[Alarm] mixed"}})
    check(r == SMFIR_CONTINUE and added(conn, "X-Exorelay") == ALARM,
          "one outbound recipient makes it outbound (second message, same connection)")
    mt.disconnect(conn)
end)
