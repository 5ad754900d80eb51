/*
 * graph_check.c - the Microsoft Graph steps of "exorelay test", for
 * accounts with transport = graph or auto.
 *
 * SYNOPSIS
 *	int graph_check_steps(lt, tcfg, acct, te)
 *		"Graph token": a new token for graph_scope (the engine works
 *		in the test's private state directory); "Mail.Send": the
 *		token's aud must be https://graph.microsoft.com and its
 *		roles claim must hold Mail.Send, the application permission
 *		sendMail needs (granted with admin consent). On failure the
 *		diagnosis says how to grant it and how to limit the app to
 *		the sending mailbox. Returns the exit status (0, 69, 77, 78).
 *
 * Whether the mailbox lies inside the app's application access policy or
 * RBAC scope only Graph can tell (403 ErrorAccessDenied at sendMail):
 * "exorelay test --to" finds that out with a real message.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "graph_check.h"

#define GRANT_FIX "in the Entra admin center: App registrations > the app > API " \
    "permissions > Add a permission > Microsoft Graph > Application permissions > " \
    "Mail.Send; then \"Grant admin consent\". Limit the app to the sending " \
    "mailbox(es): New-ApplicationAccessPolicy -AppId CLIENT_ID -PolicyScopeGroupId " \
    "GROUP -AccessRight RestrictAccess, or RBAC for Applications: " \
    "New-ManagementRoleAssignment -App CLIENT_ID -Role \"Application Mail.Send\" " \
    "-CustomResourceScope SCOPE. Tokens carry a new grant within minutes."

/* token_step - a Graph token; exit status */
static int token_step(struct livetest *lt, const struct conf_account *acct,
                      struct token_engine *te, secret_t **token)
{
    struct token_diag td;
    time_t  expires;
    char    detail[256];

    lt_begin(lt, "Graph token");
    if (token_get_scope(te, acct, TOKEN_GRAPH, token, &expires, &td) < 0) {
        char line[512];
        token_diag_line(&td, acct, line, sizeof(line));
        lt_step(lt, "Graph token", 0, line);
        if (td.fix[0])
            lt_explain(lt, "fix", td.fix);
        if (td.detail[0])
            lt_explain(lt, "details", td.detail);
        return lt_exit_for_token(&td);
    }
    snprintf(detail, sizeof(detail), "new access token for %s, valid %ld min",
             acct->graph_scope, (long) (expires - time(NULL)) / 60);
    lt_step(lt, "Graph token", 1, detail);
    return EX_OK;
}

/* graph_check_steps - see above */
int graph_check_steps(struct livetest *lt, const struct config *tcfg,
                      const struct conf_account *acct, struct token_engine *te)
{
    secret_t *token = NULL;
    char    aud[256], detail[512];
    int     status = token_step(lt, acct, te, &token), has;

    (void) tcfg;
    if (status != EX_OK)
        return status;
    lt_begin(lt, "Mail.Send");
    has = token_claims_roles(token, "Mail.Send", aud, sizeof(aud));
    secret_free(token);
    if (has < 0) {
        lt_step(lt, "Mail.Send", 1, "the token is not a readable JWT: roles not "
                "checked here (exorelay test --to checks with a real message)");
        return EX_OK;
    }
    if (strcmp(aud, "https://graph.microsoft.com") != 0
        && strcmp(aud, "00000003-0000-0000-c000-000000000000") != 0) {
        snprintf(detail, sizeof(detail), "the token is for %s, not Microsoft Graph",
                 aud[0] ? aud : "no audience");
        lt_step(lt, "Mail.Send", 0, detail);
        lt_explain(lt, "fix", "graph_scope in [account] must be "
                   "https://graph.microsoft.com/.default");
        return EX_CONFIG;
    }
    if (!has) {
        lt_step(lt, "Mail.Send", 0, "the token's roles claim lacks Mail.Send: the app "
                "has no Mail.Send application permission with admin consent");
        lt_explain(lt, "fix", GRANT_FIX);
        return EX_NOPERM;
    }
    lt_step(lt, "Mail.Send", 1, "the token's roles claim holds Mail.Send (application "
            "permission, admin consent granted)");
    return EX_OK;
}
