/*
 * mail_date.c - the date of a message header (see mail_date.h).
 */
#include <time.h>

#include "mail_date.h"

/* mail_date - RFC 5322 date-time of t in the local zone */
void mail_date(time_t t, char *buf, size_t size)
{
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm);
}
