-- reload.lua - SIGHUP swaps the config without dropping a connection; a
-- message in flight keeps the config it started with; a bad config is
-- refused and the running one stays. Run last: it changes the config.
-- Globals: conf (the config file the milter reads), pid.
dofile(top .. "/tests/milter/lib.lua")

local function hup(new_conf)
    sh("cp " .. new_conf .. " " .. conf .. " && kill -HUP " .. pid)
    mt.sleep(0.5)
end

test("reload during a message", function()
    local old = connect()
    start(old, "<root@host.example>", {"<ops@example.com>"})
    hup(tmp .. "/reload.conf")
    local r = finish(old, {{"From", "root@host.example"}, {"Subject", "[Alarm] in flight"}})
    check(r == SMFIR_CONTINUE and added(old, "X-Exorelay") == "class=alarm; account=main",
          "the message in flight keeps its config, its connection survives")
    r = message(old, "<root@host.example>", {"<ops@example.com>"},
                {{"From", "root@host.example"}, {"Subject", "[Alarm] next"}})
    check(r == SMFIR_CONTINUE and added(old, "X-Exorelay") == "class=alarm; account=portal",
          "the next message on the same connection uses the new config")
    mt.disconnect(old)
end)

test("new config: no default class, refusals off", function()
    local conn = connect()
    local r = message(conn, "<app@host.example>", {"<ops@example.com>"},
                      {{"From", "app@host.example"}, {"X-Exorelay", "class=alarm; account=main"}})
    check(r == SMFIR_CONTINUE and mt.eom_check(conn, MT_HDRDELETE, "X-Exorelay", 1)
          and not mt.eom_check(conn, MT_HDRADD) and not mt.eom_check(conn, MT_HDRCHANGE, "From"),
          "unclassified outbound mail: the forged tag removed, nothing else changed")
    local rs = start(conn, "<root@host.example>",
                     {"<a@example.com>", "<b@example.com>", "<c@example.com>", "<d@example.com>"}, "SIZE=99999")
    check(rs[4] == SMFIR_CONTINUE, "refusals switched off: 4 recipients and a big SIZE accepted")
    mt.disconnect(conn)
end)

test("a bad config is refused", function()
    hup(tmp .. "/broken.conf")
    local conn = connect()
    local r = message(conn, "<root@host.example>", {"<ops@example.com>"},
                      {{"From", "root@host.example"}, {"Subject", "[Alarm] after a bad reload"}})
    check(r == SMFIR_CONTINUE and added(conn, "X-Exorelay") == "class=alarm; account=portal",
          "the milter keeps running on the last good config")
    mt.disconnect(conn)
end)
