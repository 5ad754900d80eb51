/*
 * dsn.c - build an RFC 3464 delivery status notification.
 *
 * SYNOPSIS
 *	int dsn_wanted(env, success)
 *		1 when a report should go to env's sender: it asked for this
 *		kind (NOTIFY, default failure only), the message is not itself
 *		a report (no loops), and the sender can receive mail through
 *		Exchange (a non-null address with a dotted domain that is not
 *		localhost).
 *	int dsn_build(info, fd, &msg, &len)
 *		The whole report message: a human-readable part, the
 *		message/delivery-status part (one block per recipient), and
 *		the original read from fd (positioned at its start): the whole
 *		message for RET=FULL, only its header (text/rfc822-headers)
 *		otherwise. 0 or -1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dsn.h"
#include "proto/mail_date.h"

int dsn_wanted(const struct spool_env *env, int success)
{
    const char *at = env->sender ? strrchr(env->sender, '@') : NULL;
    unsigned want = env->notify ? env->notify : DSN_NOTIFY_FAILURE;

    if (env->is_dsn || !(want & (success ? DSN_NOTIFY_SUCCESS : DSN_NOTIFY_FAILURE)))
        return 0;
    if (at == NULL || at == env->sender || strchr(at, '.') == NULL)
        return 0;
    size_t n = strlen(at + 1);
    if (strcasecmp(at + 1, "localhost") == 0 || (n >= 10 && strcasecmp(at + 1 + n - 10,
                                                                      ".localhost") == 0))
        return 0;
    return 1;
}

/* one_line - a reply text as one header-safe line (DSN fields are lines) */
static void one_line(const char *in, char *out, size_t size)
{
    size_t k = 0;

    for (; *in && k + 1 < size; in++)
        out[k++] = *in == '\r' || *in == '\n' || *in == '\t' ? ' ' : *in;
    out[k] = 0;
}

/* human_part - the text a person reads first */
static void human_part(FILE *fp, const struct dsn_info *in)
{
    fprintf(fp, "This is the mail system at host %s.\n\n", in->reporting_mta);
    if (in->success)
        fputs("Your message was relayed to Exchange Online for the recipients\n"
              "below. Exchange does not return further delivery reports to us.\n\n",
              fp);
    else
        fputs("I'm sorry to have to inform you that your message could not\n"
              "be delivered to one or more recipients. It is attached below.\n\n",
              fp);
    for (size_t i = 0; i < in->nrcpt; i++) {
        char diag[900];
        one_line(in->rcpt[i].diag ? in->rcpt[i].diag : "", diag, sizeof(diag));
        fprintf(fp, "<%s>: %s\n", in->rcpt[i].addr, diag[0] ? diag : in->rcpt[i].status);
    }
}

/* status_part - the machine-readable message/delivery-status body */
static void status_part(FILE *fp, const struct dsn_info *in)
{
    char date[64], arrival[64];

    mail_date(in->now, date, sizeof(date));
    mail_date(in->env->time, arrival, sizeof(arrival));
    fprintf(fp, "Reporting-MTA: dns; %s\nX-Exorelay-Queue-ID: %s\n", in->reporting_mta,
            in->env->id);
    if (in->env->envid)
        fprintf(fp, "Original-Envelope-Id: %s\n", in->env->envid);
    fprintf(fp, "Arrival-Date: %s\n", arrival);
    for (size_t i = 0; i < in->nrcpt; i++) {
        fprintf(fp, "\nFinal-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n",
                in->rcpt[i].addr, in->success ? "relayed" : "failed", in->rcpt[i].status);
        if (in->remote_mta)
            fprintf(fp, "Remote-MTA: dns; %s\n", in->remote_mta);
        if (in->rcpt[i].diag) {
            char diag[900];
            one_line(in->rcpt[i].diag, diag, sizeof(diag));
            fprintf(fp, "Diagnostic-Code: smtp; %s\n", diag);
        }
        fprintf(fp, "Last-Attempt-Date: %s\n", date);
    }
}

/* copy_original - the original (or its header only) from fd */
static int copy_original(FILE *fp, int fd, int headers_only)
{
    char buf[65536];
    ssize_t n;
    int last_nl = 1, prev_nl = 1;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        ssize_t keep = n;
        for (ssize_t i = 0; headers_only && i < n; i++) {
            if (buf[i] == '\n' && prev_nl) {    /* the empty line ends the header */
                keep = i;
                break;
            }
            prev_nl = buf[i] == '\n';
        }
        fwrite(buf, 1, (size_t) keep, fp);
        if (keep > 0)
            last_nl = buf[keep - 1] == '\n';
        if (keep < n)
            break;
    }
    if (!last_nl)
        fputc('\n', fp);
    return n < 0 ? -1 : 0;
}

int dsn_build(const struct dsn_info *in, int fd, char **msg, size_t *len)
{
    char boundary[64], date[64];
    int full = !in->success && in->env->ret == DSN_RET_FULL;
    FILE *fp = open_memstream(msg, len);

    if (fp == NULL)
        return -1;
    snprintf(boundary, sizeof(boundary), "%s/%s", in->id, in->reporting_mta);
    mail_date(in->now, date, sizeof(date));
    fprintf(fp, "From: Mail Delivery System <%s>\nTo: %s\nSubject: %s\nDate: %s\n"
            "Message-ID: <%s.dsn@%s>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status;\n"
            "\tboundary=\"%s\"\n\nThis is a MIME-encapsulated message.\n\n--%s\n"
            "Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n",
            in->from, in->env->sender,
            in->success ? "Successful Mail Delivery Report" : "Undelivered Mail Returned to Sender",
            date, in->id, in->reporting_mta, boundary, boundary);
    human_part(fp, in);
    fprintf(fp, "\n--%s\nContent-Description: Delivery report\n"
            "Content-Type: message/delivery-status\n\n", boundary);
    status_part(fp, in);
    fprintf(fp, "\n--%s\nContent-Description: %s\nContent-Type: %s\n\n", boundary,
            full ? "Undelivered Message" : "Message Headers",
            full ? "message/rfc822" : "text/rfc822-headers");
    int rc = copy_original(fp, fd, !full);
    fprintf(fp, "\n--%s--\n", boundary);
    if (fclose(fp) != 0 || rc < 0) {
        free(*msg);
        *msg = NULL;
        return -1;
    }
    return 0;
}
