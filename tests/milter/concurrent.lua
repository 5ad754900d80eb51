-- concurrent.lua - one of several copies run at once while the config is
-- reloaded again and again: every message must still be judged right.
-- Global: n (messages, one connection each).
dofile(top .. "/tests/milter/lib.lua")

test("parallel connections during reloads", function()
    local bad = 0
    for i = 1, tonumber(n) do
        local conn = connect()
        local r = message(conn, "<root@host.example>", {"<ops@example.com>"},
                          {{"From", "\"Cron " .. i .. "\" <root@host.example>"}, {"Subject", "[Alarm] " .. i},
                           {"X-Exorelay", "class=forged; account=portal"}})
        if r ~= SMFIR_CONTINUE or added(conn, "X-Exorelay") ~= "class=alarm; account=main"
           or added(conn, "X-Exorelay", 2) ~= nil
           or not mt.eom_check(conn, MT_HDRCHANGE, "From", "\"Cron " .. i .. "\" <alerts@contoso.example>") then
            bad = bad + 1
        end
        mt.disconnect(conn)
    end
    check(bad == 0, n .. " messages on as many connections, " .. bad .. " judged wrong")
end)
