/*
 * smtp_reply.h - one SMTP reply, as read from upstream or made locally.
 *
 * A multi-line reply keeps its lines joined with "\n" in text (without the
 * "250-" prefixes); enhanced is the RFC 3463 code of the first line ("5.7.3")
 * or "" when absent. Local replies for faults are made with smtp_reply_set().
 */
#ifndef EXORELAY_SMTP_REPLY_H
#define EXORELAY_SMTP_REPLY_H

#define SMTP_REPLY_TEXT_MAX 2048

struct smtp_reply {
    int     code;                       /* 250, 354, 451 ... ; 0 = none */
    char    enhanced[16];               /* "2.0.0" or "" */
    char    text[SMTP_REPLY_TEXT_MAX];  /* text after code and enhanced code */
};

/* smtp_reply_set - fill r with a locally made reply; text is printf-style */
void smtp_reply_set(struct smtp_reply *r, int code, const char *enhanced,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
