/*
 * upstream_int.h - the inside of struct upstream, shared by upstream.c
 * (commands and replies) and upstream_open.c (session setup). Nothing else
 * includes it.
 */
#ifndef EXORELAY_UPSTREAM_INT_H
#define EXORELAY_UPSTREAM_INT_H

#include <time.h>

#include "upstream.h"
#include "upstream_io.h"

struct upstream {
    struct upio io;
    const struct config *cfg;
    const struct conf_account *acct;
    char    ehlo[SMTP_REPLY_TEXT_MAX];  /* EHLO reply text, lines joined with \n */
    char    stage[32];          /* "after MAIL": where we were, for diagnoses */
    time_t  token_expiry;
    int     broken;
    int     skip_replies;       /* queued RSET replies to swallow */
    upstream_step_fn step;      /* progress report, may be NULL */
    void   *step_arg;
    long long t0;               /* start of the current setup step (mono_ms) */
};

#endif
