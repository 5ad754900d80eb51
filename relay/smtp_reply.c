/*
 * smtp_reply.c - make local SMTP replies (smtp_reply.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"

void smtp_reply_set(struct smtp_reply *r, int code, const char *enhanced,
                    const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    snprintf(r->enhanced, sizeof(r->enhanced), "%s", enhanced ? enhanced : "");
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof(r->text), fmt, ap);
    va_end(ap);
}
