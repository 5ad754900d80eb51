/*
 * graph_check.h - the Microsoft Graph steps of "exorelay test" (see
 * graph_check.c).
 */
#ifndef EXORELAY_GRAPH_CHECK_H
#define EXORELAY_GRAPH_CHECK_H

#include "common/config.h"
#include "livetest.h"
#include "token/token.h"

int graph_check_steps(struct livetest *lt, const struct config *tcfg,
                      const struct conf_account *acct, struct token_engine *te);

#endif
