/*
 * sendmail_msg.c - read a message from a sendmail caller and complete its
 * header as sendmail does.
 *
 * SYNOPSIS
 *	int sendmail_read_message(in, ignore_dots, max, &buf, &len, err, errlen)
 *		Read to end of file, or (without -i) to a line holding a
 *		single ".". CRLF becomes LF. Reads in bounded pieces and
 *		stops as soon as the message exceeds max bytes (max <= 0:
 *		no limit), however long its lines: returns 0, or
 *		EX_DATAERR over max, EX_IOERR on a read error.
 *	size_t sendmail_read_piece(in, buf, size)
 *		Up to size bytes of in, through the next LF (kept) at most:
 *		the length, 0 at end of input. A CR ending a full piece is
 *		left for the next one, so a CRLF is never cut in two. Every
 *		reader of standard input takes lines this way, SM_PIECE at
 *		a time: a line of any length (300 MB without a newline)
 *		costs that buffer, never memory of its own size.
 *	int sendmail_complete(in, len, origin, &result)
 *		Drop a leading mbox "From " line, remove every Bcc: field,
 *		collect To/Cc/Bcc recipients when origin->extract (-t), add a
 *		Received: trace field on top and From:, Date:, Message-ID:
 *		when missing. A header ended by a non-header line (no empty
 *		line) gets the empty line inserted. Returns 0 or -1 (memory
 *		or a control character in a header address).
 *	int sendmail_addr_list(value, &vec, &n)
 *		Append every address of an RFC 5322 address list (To:, Cc:,
 *		Bcc:, or a recipient argument, which may be a comma list too)
 *		to vec: "Name <a@b>", "a@b (comment)", "\"Doe, J\" <j@d>",
 *		"group: a@b, c@d;", "<@route:a@b>". The scanner is the
 *		milter's (common/addr.h, fuzzed). Returns the number appended,
 *		or -1 when out of memory or when the value holds a line break
 *		or an address a control character.
 *	char *sendmail_from_header(fullname, addr)
 *		"From: Full Name <addr>" value, the name quoted or RFC 2047
 *		encoded when it needs to be (common/phrase.h)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "common/addr.h"
#include "common/phrase.h"
#include "proto/mail_date.h"
#include "spool/spool.h"

#include "sendmail_msg.h"


/* sendmail_read_piece - see the top */
size_t sendmail_read_piece(FILE *in, char *buf, size_t size)
{
    size_t  n = 0;
    int     c;

    while (n < size && (c = getc_unlocked(in)) != EOF) {
        buf[n++] = (char) c;
        if (c == '\n')
            return n;
    }
    if (n == size && n > 1 && buf[n - 1] == '\r' && ungetc('\r', in) != EOF)
        n--;
    return n;
}

int sendmail_read_message(FILE *in, int ignore_dots, long long max,
                          char **buf, size_t *len, char *err, size_t errlen)
{
    FILE   *out = open_memstream(buf, len);
    char    piece[SM_PIECE];
    size_t  n;
    long long total = 0;
    int     rc = 0, bol = 1, open_line = 0;

    if (out == NULL)
        return EX_OSERR;
    while ((n = sendmail_read_piece(in, piece, sizeof(piece))) > 0) {
        int     had_nl = piece[n - 1] == '\n';
        size_t  body = n - (size_t) had_nl;

        if (had_nl && body > 0 && piece[body - 1] == '\r')
            body--;                     /* CRLF becomes LF */
        if (!ignore_dots && bol && had_nl && body == 1 && piece[0] == '.')
            break;
        total += (long long) body + had_nl;
        if (max > 0 && total + !had_nl > max) {
            snprintf(err, errlen, "message too large (limit %lld bytes); "
                     "nothing was queued", max);
            rc = EX_DATAERR;
            break;
        }
        if (fwrite(piece, 1, body, out) != body || (had_nl && fputc('\n', out) == EOF)) {
            rc = EX_OSERR;
            break;
        }
        bol = had_nl;
        open_line = !had_nl;
    }
    if (rc == 0 && open_line && fputc('\n', out) == EOF)    /* last line's end */
        rc = EX_OSERR;
    if (rc == 0 && ferror(in)) {
        snprintf(err, errlen, "error reading the message from standard input");
        rc = EX_IOERR;
    }
    if (fclose(out) != 0 && rc == 0)
        rc = EX_OSERR;
    if (rc) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

/* has_control - CR, LF, NUL and other controls never belong in an address */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* sendmail_addr_list - see above */
int sendmail_addr_list(const char *value, char ***vec, size_t *n)
{
    struct addr_list list;
    int     count = 0;

    /* The scanner would take a line break for folding white space. */
    if (strpbrk(value, "\r\n") != NULL || addr_parse(value, &list) < 0)
        return -1;
    for (size_t i = 0; i < list.n && count >= 0; i++) {
        const char *addr = list.v[i].addr;

        if (*addr == 0)
            continue;                   /* "<>", a display name alone */
        if (has_control(addr) || spool_env_add(vec, n, addr) < 0)
            count = -1;
        else
            count++;
    }
    addr_list_free(&list);
    return count;
}

/* sendmail_from_header - see above */
char *sendmail_from_header(const char *fullname, const char *addr)
{
    char *name = NULL, *out = NULL;

    if (fullname == NULL || *fullname == 0) {
        if (asprintf(&out, "%s", addr) < 0)
            return NULL;
        return out;
    }
    name = phrase_make(fullname, 1);
    if (name && asprintf(&out, "%s <%s>", name, addr) < 0)
        out = NULL;
    free(name);
    return out;
}

/* A header field as found in the input: [start, end) including its
 * continuation lines and the final LF. */
struct field {
    const char *start, *end;
    size_t      namelen;
};

/* field_at - is there a header field at p? fills f, returns 1 */
static int field_at(const char *p, const char *end, struct field *f)
{
    const char *q = p;

    while (q < end && *q != ':' && *q > ' ' && *q < 0x7f)
        q++;
    if (q == p || q >= end || *q != ':')
        return 0;
    f->start = p;
    f->namelen = (size_t) (q - p);
    for (;;) {
        const char *nl = memchr(q, '\n', (size_t) (end - q));
        q = nl ? nl + 1 : end;
        if (q >= end || (*q != ' ' && *q != '\t'))
            break;
    }
    f->end = q;
    return 1;
}

/* field_is - case-insensitive name test */
static int field_is(const struct field *f, const char *name)
{
    return strlen(name) == f->namelen && strncasecmp(f->start, name, f->namelen) == 0;
}

/* field_value - the unfolded value (line ends become spaces) */
static char *field_value(const struct field *f)
{
    const char *v = f->start + f->namelen + 1;
    size_t n = (size_t) (f->end - v);
    char *out = malloc(n + 1);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = v[i] == '\n' || v[i] == '\r' ? ' ' : v[i];
    out[n] = 0;
    return out;
}

/* What the header scan found. */
struct header_facts {
    int has_from, has_date, has_msgid;
    const char *body;           /* first byte after the header */
    int need_blank;             /* header not ended by an empty line */
    int bad;
};

/* collect_rcpts - To/Cc/Bcc addresses into the result */
static void collect_rcpts(const struct field *f, struct sm_result *out,
                          struct header_facts *hf)
{
    char *v = field_value(f);

    if (v == NULL || sendmail_addr_list(v, &out->rcpt, &out->nrcpt) < 0)
        hf->bad = 1;
    free(v);
}

/* copy_header - the input header minus Bcc into fp; facts into hf */
static void copy_header(const char *p, const char *end, const struct sm_origin *o,
                        FILE *fp, struct sm_result *out, struct header_facts *hf)
{
    struct field f;

    while (p < end && field_at(p, end, &f)) {
        int bcc = field_is(&f, "Bcc");
        if (o->extract && (bcc || field_is(&f, "To") || field_is(&f, "Cc")))
            collect_rcpts(&f, out, hf);
        hf->has_from |= field_is(&f, "From");
        hf->has_date |= field_is(&f, "Date");
        hf->has_msgid |= field_is(&f, "Message-ID");
        if (!bcc)
            fwrite(f.start, 1, (size_t) (f.end - f.start), fp);
        if (f.end[-1] != '\n')
            fputc('\n', fp);
        p = f.end;
    }
    hf->need_blank = !(p < end && *p == '\n');
    hf->body = p < end && *p == '\n' ? p + 1 : p;
}

/* add_missing - From:, Date:, Message-ID: as sendmail would */
static void add_missing(FILE *fp, const struct sm_origin *o, const struct header_facts *hf,
                        const char *date)
{
    if (!hf->has_from) {
        char addr[1024];
        if (o->sender && *o->sender)
            snprintf(addr, sizeof(addr), "%s", o->sender);
        else
            snprintf(addr, sizeof(addr), "%s@%s", o->login, o->hostname);
        char *from = sendmail_from_header(o->fullname, addr);
        fprintf(fp, "From: %s\n", from ? from : addr);
        free(from);
    }
    if (!hf->has_date)
        fprintf(fp, "Date: %s\n", date);
    if (!hf->has_msgid) {
        struct tm tm;
        char stamp[32];
        gmtime_r(&o->now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
        fprintf(fp, "Message-ID: <%s.%s@%s>\n", stamp, o->id, o->hostname);
    }
}

int sendmail_complete(const char *in, size_t len, const struct sm_origin *o,
                      struct sm_result *out)
{
    const char *p = in, *end = in + len;
    struct header_facts hf = {0};
    char date[64];
    FILE *fp;

    memset(out, 0, sizeof(*out));
    if ((fp = open_memstream(&out->msg, &out->len)) == NULL)
        return -1;
    if (len >= 5 && memcmp(p, "From ", 5) == 0) {   /* mbox separator line */
        const char *nl = memchr(p, '\n', len);
        p = nl ? nl + 1 : end;
    }
    mail_date(o->now, date, sizeof(date));
    fprintf(fp, "Received: by %s (exorelay-sendmail, from userid %ld)\n\tid %s; %s\n",
            o->hostname, (long) o->uid, o->id, date);
    copy_header(p, end, o, fp, out, &hf);
    add_missing(fp, o, &hf, date);
    fputc('\n', fp);
    fwrite(hf.body, 1, (size_t) (end - hf.body), fp);
    if (fclose(fp) != 0 || hf.bad) {
        sm_result_free(out);
        return -1;
    }
    return 0;
}

void sm_result_free(struct sm_result *r)
{
    free(r->msg);
    for (size_t i = 0; i < r->nrcpt; i++)
        free(r->rcpt[i]);
    free(r->rcpt);
    memset(r, 0, sizeof(*r));
}
