/*
 * rewrite.h - what a classified message becomes: the pure part of the
 * sender rewrite, testable without libmilter.
 *
 * SYNOPSIS
 *	int rewrite_plan(&in, &out)
 *		From the message's From header values, its envelope sender
 *		and the class's send_as, compute:
 *		- out.env_from: "<addr>" for smfi_chgfrom, or NULL when the
 *		  envelope sender is already that address or is the null
 *		  sender (a bounce stays a bounce);
 *		- out.from: the new From value: send_as's display name, else
 *		  the original display name exactly as written (encoded words
 *		  and UTF-8 intact), else the original "addr (Comment)" as a
 *		  display name, then "<send_as address>";
 *		- out.reply_to: the original mailbox, when the message has no
 *		  Reply-To and the original differs from the new address;
 *		- out.orig_from[]: every original From value, unfolded, for
 *		  X-Exorelay-Original-From; out.orig_sender: the original
 *		  envelope sender when it changes, for X-Exorelay-Original-Sender;
 *		- out.tag: "class=NAME; account=NAME" for X-Exorelay.
 *		Returns 0, or -1 when out of memory or when send_as (or, when
 *		it is empty, mailbox) holds no address.
 *	void rewrite_free(&out)
 *	int rewrite_split_send_as(send_as, &display, &addr)
 *		"Display <addr>" or "addr" into its parts (display NULL when
 *		absent); 0, or -1 when there is no address or no memory.
 */
#ifndef EXORELAY_REWRITE_H
#define EXORELAY_REWRITE_H

#include <stddef.h>

struct rewrite_in {
    char  *const *from;         /* From header values as received */
    size_t  nfrom;
    const char *env_from;       /* bare envelope sender; "" = null sender */
    int     has_reply_to;
    const char *send_as;        /* the class's send_as; NULL or "" = mailbox */
    const char *mailbox;        /* the account's mailbox */
    const char *class_name;
    const char *account;
};

struct rewrite_out {
    char   *env_from;           /* "<addr>" or NULL = keep */
    char   *from;               /* new From value */
    char   *reply_to;           /* NULL = add none */
    char   *tag;                /* X-Exorelay value */
    char  **orig_from;          /* X-Exorelay-Original-From values */
    size_t  norig_from;
    char   *orig_sender;        /* X-Exorelay-Original-Sender value or NULL */
};

#define REWRITE_TAG_HEADER          "X-Exorelay"
#define REWRITE_ORIG_FROM_HEADER    "X-Exorelay-Original-From"
#define REWRITE_ORIG_SENDER_HEADER  "X-Exorelay-Original-Sender"

int rewrite_plan(const struct rewrite_in *in, struct rewrite_out *out);
void rewrite_free(struct rewrite_out *out);
int rewrite_split_send_as(const char *send_as, char **display, char **addr);

#endif
