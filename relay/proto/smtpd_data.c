/*
 * smtpd_data.c - the DATA scanner (see smtpd_data.h for the rules).
 *
 * A byte-at-a-time state machine: it must see every byte anyway to find
 * bare CR/LF, and it keeps no more than one held-back byte of state, so
 * memory stays constant whatever the message size.
 */
#include <string.h>

#include "smtpd_data.h"

enum {
    DS_LINE_START,              /* after CRLF (or at the start) */
    DS_DOT,                     /* "." at line start, held */
    DS_DOT_CR,                  /* ".\r" at line start, held */
    DS_MID,                     /* inside a line */
    DS_CR                       /* "\r" inside a line, held */
};

/* data_scan_init - start of a message */
void data_scan_init(struct data_scan *ds, long long max_size)
{
    memset(ds, 0, sizeof(*ds));
    ds->state = DS_LINE_START;
    ds->max_size = max_size;
}

/* emit - forward content bytes while the message is still acceptable */
static void emit(struct data_scan *ds, char *out, size_t *outlen,
                 const char *bytes, size_t n, size_t content)
{
    if (ds->bare || ds->oversize)
        return;
    ds->size += (long long) content;
    if (ds->max_size > 0 && ds->size > ds->max_size) {
        ds->oversize = 1;
        return;
    }
    memcpy(out + *outlen, bytes, n);
    *outlen += n;
}

/* mid_byte - one byte inside a line */
static void mid_byte(struct data_scan *ds, char c, char *out, size_t *outlen)
{
    if (c == '\r') {
        ds->state = DS_CR;
    } else if (c == '\n') {
        ds->bare = 1;                   /* LF without CR */
        ds->state = DS_MID;
    } else {
        emit(ds, out, outlen, &c, 1, 1);
        ds->state = DS_MID;
    }
}

/* data_scan - consume bytes until the end of data (see smtpd_data.h) */
size_t data_scan(struct data_scan *ds, const char *in, size_t inlen,
                 char *out, size_t *outlen)
{
    size_t i;

    *outlen = 0;
    for (i = 0; i < inlen && !ds->done; i++) {
        char c = in[i];

        switch (ds->state) {
        case DS_LINE_START:
            if (c == '.')
                ds->state = DS_DOT;
            else
                mid_byte(ds, c, out, outlen);
            break;
        case DS_DOT:
            if (c == '\r') {
                ds->state = DS_DOT_CR;
            } else {
                /* The stuffing dot is forwarded but is not content
                 * (dropped when the output is for BDAT). */
                if (!ds->unstuff)
                    emit(ds, out, outlen, ".", 1, 0);
                mid_byte(ds, c, out, outlen);
            }
            break;
        case DS_DOT_CR:
            if (c == '\n') {
                ds->done = 1;
            } else {
                ds->bare = 1;           /* ".\r" then not LF */
                mid_byte(ds, c, out, outlen);
            }
            break;
        case DS_MID:
            mid_byte(ds, c, out, outlen);
            break;
        case DS_CR:
            if (c == '\n') {
                emit(ds, out, outlen, "\r\n", 2, 2);
                ds->state = DS_LINE_START;
            } else {
                ds->bare = 1;           /* CR without LF */
                mid_byte(ds, c, out, outlen);
            }
            break;
        }
    }
    return i;
}
