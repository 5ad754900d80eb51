-- refusals.lua - early refusals: too many recipients, SIZE over the limit.
-- The test config has max_recipients = 3 and max_message_size = 10K.
dofile(top .. "/tests/milter/lib.lua")

test("too many recipients", function()
    local conn = connect()
    local r = start(conn, "<root@host.example>",
        {"<a@example.com>", "<b@example.com>", "<root@localhost>", "<c@example.com>",
         "<d@example.com>", "<ops@host.example>"})
    check(r[1] == SMFIR_CONTINUE and r[2] == SMFIR_CONTINUE and r[4] == SMFIR_CONTINUE,
          "the first three outbound recipients are accepted")
    check(r[3] == SMFIR_CONTINUE and r[6] == SMFIR_CONTINUE, "local recipients do not count")
    check(r[5] == SMFIR_REPLYCODE, "the fourth outbound recipient is refused (452 4.5.3)")
    check(finish(conn, {{"From", "root@host.example"}, {"Subject", "[Alarm] many"}}) == SMFIR_CONTINUE,
          "the message itself goes on")
    mt.disconnect(conn)
end)

test("SIZE over max_message_size", function()
    local conn = connect()
    local r = start(conn, "<root@host.example>", {"<ops@localhost>", "<a@example.com>"}, "SIZE=20000")
    check(r[1] == SMFIR_CONTINUE, "a local recipient of a big message is accepted")
    check(r[2] == SMFIR_REPLYCODE, "an outbound recipient of a big message is refused (552 5.3.4)")
    mt.abort(conn)
    r = start(conn, "<root@host.example>", {"<a@example.com>"}, "BODY=8BITMIME", "SIZE=9000")
    check(r[1] == SMFIR_CONTINUE, "SIZE under the limit is accepted")
    mt.disconnect(conn)
end)
