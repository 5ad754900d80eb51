/*
 * sendmail_msg.h - read a message the way sendmail does and complete its
 * header (see sendmail_msg.c).
 */
#ifndef EXORELAY_SENDMAIL_MSG_H
#define EXORELAY_SENDMAIL_MSG_H

#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* What header completion needs to know about the submission. */
struct sm_origin {
    const char *id;             /* queue ID (for Message-ID and Received) */
    const char *sender;         /* envelope sender ("" = <>) */
    const char *fullname;       /* -F, else the user's GECOS name, or NULL */
    const char *hostname;       /* this host's name */
    const char *login;          /* the submitting user's login name */
    uid_t       uid;
    time_t      now;
    int         extract;        /* -t: collect To/Cc/Bcc recipients */
};

struct sm_result {
    char   *msg;                /* completed message, LF line ends */
    size_t  len;
    char  **rcpt;               /* recipients found in the header (-t) */
    size_t  nrcpt;
};

#define SM_PIECE 8192           /* see sendmail_read_piece() */

size_t sendmail_read_piece(FILE *in, char *buf, size_t size);
int sendmail_read_message(FILE *in, int ignore_dots, long long max,
                          char **buf, size_t *len, char *err, size_t errlen);
int sendmail_complete(const char *in, size_t len, const struct sm_origin *origin,
                      struct sm_result *out);
void sm_result_free(struct sm_result *r);
int sendmail_addr_list(const char *value, char ***vec, size_t *n);
char *sendmail_from_header(const char *fullname, const char *addr);

#endif
