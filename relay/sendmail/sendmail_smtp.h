/*
 * sendmail_smtp.h - SMTP on standard input and output (-bs); see
 * sendmail_smtp.c.
 */
#ifndef EXORELAY_SENDMAIL_SMTP_H
#define EXORELAY_SENDMAIL_SMTP_H

#include <stdio.h>

#include "common/config.h"
#include "sendmail_args.h"

int sendmail_smtp(const struct config *cfg, const struct sendmail_opts *opts, FILE *in,
                  FILE *out);

#endif
