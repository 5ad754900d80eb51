-- tags.lua - X-Exorelay headers from outside never survive outbound mail.
dofile(top .. "/tests/milter/lib.lua")

test("forged tags on classified mail", function()
    local conn = connect()
    local r = message(conn, "<root@host.example>", {"<ops@example.com>"},
        {{"X-Exorelay", "class=guest; account=portal"}, {"From", "root@host.example"},
         {"x-exorelay", "class=evil; account=portal"}, {"Subject", "[Alarm] forged"},
         {"X-Exorelay-Original-From", "forged@evil.example"}, {"X-ExorelayOther", "not ours"}})
    check(r == SMFIR_CONTINUE, "accepted")
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Exorelay", 2) and mt.eom_check(conn, MT_HDRDELETE, "X-Exorelay", 1),
          "both X-Exorelay headers (any case) removed, by index")
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Exorelay-Original-From", 1), "a forged X-Exorelay-* removed")
    check(not mt.eom_check(conn, MT_HDRDELETE, "X-ExorelayOther"), "a header that only looks alike stays")
    check(added(conn, "X-Exorelay") == "class=alarm; account=main" and added(conn, "X-Exorelay", 2) == nil,
          "exactly one tag added, the right one")
    check(added(conn, "X-Exorelay-Original-From") == "root@host.example"
          and added(conn, "X-Exorelay-Original-From", 2) == nil, "our own X-Exorelay-Original-From only")
    -- the next message on this connection starts clean
    r = message(conn, "<root@host.example>", {"<ops@example.com>"},
                {{"From", "root@host.example"}, {"Subject", "[Alarm] clean"}})
    check(r == SMFIR_CONTINUE and not mt.eom_check(conn, MT_HDRDELETE),
          "next message on the connection: nothing left to delete")
    mt.disconnect(conn)
end)

test("an account pool in the tag", function()
    local conn = connect()
    local r = message(conn, "<app@app.example>", {"<ops@example.com>"},
                      {{"From", "app@app.example"}, {"X-Bulk", "yes"}, {"Subject", "bulk"}})
    check(r == SMFIR_CONTINUE and added(conn, "X-Exorelay") == "class=bulk; account=main,portal",
          "a class with account = main, portal tags account=main,portal (the relay picks one)")
    mt.disconnect(conn)
end)

test("aborted message", function()
    local conn = connect()
    start(conn, "<root@host.example>", {"<ops@example.com>"})
    must(mt.header(conn, "X-Exorelay", "class=evil; account=portal"), "header")
    must(mt.abort(conn), "abort")
    local r = message(conn, "<root@host.example>", {"<ops@example.com>"},
                      {{"From", "root@host.example"}, {"Subject", "[Alarm] after abort"}})
    check(r == SMFIR_CONTINUE and not mt.eom_check(conn, MT_HDRDELETE)
          and added(conn, "X-Exorelay") == "class=alarm; account=main",
          "after an abort the next message is judged on its own")
    mt.disconnect(conn)
end)
