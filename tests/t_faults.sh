#!/bin/sh
# t_faults.sh - the short version of the fault-injection suite
# (tests/faults/run.sh): 150 messages through Postfix, the milter and the
# relay while the stand-in drops connections inside DATA and answers 4xx,
# its token endpoint is down for the first 10 s, and the relay is killed
# with SIGKILL twice. Nothing may be lost. The long run (2,000 messages,
# a two-minute token outage) is "sh tests/faults/run.sh".
TOKEN_OUTAGE=${TOKEN_OUTAGE:-10} exec sh "$(dirname "$0")/faults/run.sh" "${FAULT_MESSAGES:-150}"
