#!/bin/sh
# t_standin_proto.sh - the stand-in checks that need a scripted client
# (tests/standin/check_proto.py): exact EHLO lists, AUTH before TLS,
# XOAUTH2 initial response, pipelining and round trips, BDAT, bare LF,
# limits, 3 sessions per mailbox, client assertions, the control API.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"

standin_start || { echo "not ok 1 - stand-in starts"; exit 1; }
"$PYTHON" "$TOP/tests/standin/check_proto.py"
rc=$?
if grep -q EwB "$STANDIN_DIR/standin.log"; then
    echo "not ok - a token appears in the stand-in's log"
fi
exit $rc
