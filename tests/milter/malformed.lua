-- malformed.lua - odd headers: no crash, no header lost.
dofile(top .. "/tests/milter/lib.lua")

local function classified(headers, sender)
    local conn = connect()
    local r = message(conn, sender or "<root@host.example>", {"<ops@example.com>"}, headers)
    return conn, r
end

test("unparsable From", function()
    local conn, r = classified({{"From", "\"broken <"}, {"Subject", "[Alarm] m1"}})
    check(r == SMFIR_CONTINUE, "accepted")
    check(mt.eom_check(conn, MT_HDRCHANGE, "From", "alerts@contoso.example"), "From still rewritten")
    check(added(conn, "X-Exorelay-Original-From") == "\"broken <", "the original kept verbatim")
    check(added(conn, "Reply-To") == "root@host.example", "Reply-To from the envelope instead")
    mt.disconnect(conn)
end)

test("two From headers", function()
    local conn, r = classified({{"From", "a@host.example"}, {"Subject", "[Alarm] m2"}, {"From", "b@host.example"}})
    check(r == SMFIR_CONTINUE and mt.eom_check(conn, MT_HDRDELETE, "From", 2)
          and mt.eom_check(conn, MT_HDRCHANGE, "From", "alerts@contoso.example"),
          "the second From removed, the first rewritten")
    local o1, o2 = added(conn, "X-Exorelay-Original-From", 1), added(conn, "X-Exorelay-Original-From", 2)
    check((o1 == "a@host.example" and o2 == "b@host.example") or (o1 == "b@host.example" and o2 == "a@host.example"),
          "both originals recorded")
    mt.disconnect(conn)
end)

test("folded, empty, long and group headers", function()
    local conn, r = classified({{"From", "\"Folded\r\n\tName\" <root@host.example>"},
                                {"Subject", "[Alarm] fold\r\n ed"}})
    check(r == SMFIR_CONTINUE and mt.eom_check(conn, MT_HDRCHANGE, "From", "\"Folded\tName\" <alerts@contoso.example>"),
          "a folded From is unfolded")
    mt.disconnect(conn)
    conn, r = classified({{"From", ""}, {"Subject", ""}, {"X-Empty", ""}})
    check(r == SMFIR_CONTINUE and added(conn, "X-Exorelay") == "class=default; account=main", "empty values")
    mt.disconnect(conn)
    -- miltertest reads replies into 1 KB buffers: longer values crash it, not
    -- the milter (test_milter_rewrite covers long values without miltertest)
    local long = string.rep("x", 900)
    conn, r = classified({{"From", "\"" .. long .. "\" <root@host.example>"}, {"Subject", "[Alarm] " .. long}})
    check(r == SMFIR_CONTINUE and added(conn, "X-Exorelay-Original-From") == "\"" .. long .. "\" <root@host.example>",
          "a 900-byte display name survives")
    mt.disconnect(conn)
    conn, r = classified({{"From", "Ops: root@host.example, b@host.example;"}, {"Subject", "[Alarm] group"}})
    check(r == SMFIR_CONTINUE and mt.eom_check(conn, MT_HDRCHANGE, "From", "alerts@contoso.example"),
          "group syntax")
    mt.disconnect(conn)
end)

test("garbage does not kill the milter", function()
    local bytes = "\"()<>@,;:\\[] \t.=?\xC3\xB6\x01\x7F"
    math.randomseed(7)
    local conn = connect()
    for i = 1, 300 do
        local v = {}
        for j = 1, math.random(0, 40) do
            local k = math.random(1, #bytes)
            v[#v + 1] = bytes:sub(k, k)
        end
        local r = message(conn, "<root@host.example>", {"<ops@example.com>"},
                          {{"From", table.concat(v)}, {"Subject", table.concat(v)}})
        if r ~= SMFIR_CONTINUE then error("message " .. i .. " got " .. tostring(r)) end
    end
    mt.disconnect(conn)
    local t = nil
    conn = connect()
    message(conn, "<root@host.example>", {"<ops@example.com>"}, {{"From", "root@host.example"}, {"Subject", "[Alarm] alive"}})
    t = added(conn, "X-Exorelay")
    mt.disconnect(conn)
    check(t == "class=alarm; account=main", "300 random From/Subject values, and the milter still answers")
end)
