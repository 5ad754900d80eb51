/*
 * graph_diag.c - Graph's answer to sendMail as the SMTP reply the client
 * gets, naming the cause and the fix in the admin's terms (the table of
 * EXCHANGE-FACTS.md, section 5).
 *
 * SYNOPSIS (internal, graph_int.h)
 *	void graph_diag(answer, cfg, acct, &result)
 *		Fills result.final, permanent and too_big.
 *
 *	202                      250 2.0.0 (the only success)
 *	401 InvalidAuthentication 454 4.7.0 (after the one retry with a new
 *	                          token; "Invalid audience": graph_scope)
 *	403 ErrorAccessDenied    454 4.7.0: Mail.Send with admin consent, and
 *	                          the access policy / RBAC scope commands
 *	403 ErrorSendAsDenied    554 5.2.252 like Exchange's SMTP refusal
 *	404 ErrorInvalidUser     451 4.3.0 naming mailbox in [account]
 *	413, RequestEntityTooLarge  552 5.3.4 naming Graph's 4 MB, too_big
 *	429, 503, 504            451 4.7.0 / 4.3.0; the caller waits Retry-After
 *	other 4xx and 5xx, none  451 4.3.0 (never a 5xx for what we cannot
 *	                          tell is permanent: no mail is lost)
 * Texts start with "exorelay:" and carry Graph's code, never a token.
 */
#include <stdio.h>
#include <string.h>

#include "graph_int.h"

/* access_denied - 403 ErrorAccessDenied: permission or scope */
static void access_denied(struct smtp_reply *r, const struct conf_account *acct)
{
    smtp_reply_set(r, 454, "4.7.0", "exorelay: Graph denied access to %s (403 "
                   "ErrorAccessDenied): grant the app registration the Mail.Send "
                   "*application* permission and admin consent in Entra; and let it "
                   "send as this mailbox: Test-ApplicationAccessPolicy -Identity %s "
                   "-AppId %s; add the mailbox to the group of its "
                   "New-ApplicationAccessPolicy -AccessRight RestrictAccess "
                   "-PolicyScopeGroupId, or New-ManagementRoleAssignment -App %s "
                   "-Role \"Application Mail.Send\" -CustomResourceScope SCOPE",
                   acct->mailbox, acct->mailbox, acct->client_id ? acct->client_id : "ID",
                   acct->client_id ? acct->client_id : "ID");
}

/* graph_diag - see above */
void graph_diag(const struct graph_answer *a, const struct config *cfg,
                const struct conf_account *acct, struct graph_result *res)
{
    struct smtp_reply *r = &res->final;
    long    s = a->status;

    res->permanent = 0;
    res->too_big = 0;
    res->http_status = s;
    if (s == 0)
        smtp_reply_set(r, 451, "4.4.1", "exorelay: no answer from Microsoft Graph "
                       "(%s): %s; check graph_url in [upstream] and the network",
                       cfg->graph_url, a->curl_error);
    else if (s == 202)
        smtp_reply_set(r, 250, "2.0.0", "OK: Microsoft Graph accepted the message "
                       "for %s (202)%s%s", acct->mailbox, a->request_id[0] ? " id=" : "",
                       a->request_id);
    else if (s == 401)
        smtp_reply_set(r, 454, "4.7.0", "exorelay: Graph refused the token of [account "
                       "%s] (401 %s: %s)%s", acct->name, a->code, a->message,
                       strstr(a->message, "audience")
                       ? ": graph_scope must be https://graph.microsoft.com/.default"
                       : "; a fresh token was refused too: check the app registration");
    else if (s == 403 && strcmp(a->code, "ErrorSendAsDenied") == 0) {
        smtp_reply_set(r, 554, "5.2.252", "exorelay: SendAsDenied; %s not allowed to "
                       "send as the From of this message (403 ErrorSendAsDenied from "
                       "Graph): rewrite the sender to the mailbox (exorelay-milter, "
                       "send_as), or Add-RecipientPermission FROM -Trustee %s "
                       "-AccessRights SendAs", acct->mailbox, acct->mailbox);
        res->permanent = 1;
    } else if (s == 403)
        access_denied(r, acct);
    else if (s == 404)
        smtp_reply_set(r, 451, "4.3.0", "exorelay: Graph does not know the mailbox %s "
                       "(404 %s): fix mailbox in [account %s]", acct->mailbox,
                       a->code[0] ? a->code : "Not Found", acct->name);
    else if (s == 413 || strcmp(a->code, "RequestEntityTooLarge") == 0) {
        smtp_reply_set(r, 552, "5.3.4", "exorelay: the message is too large for "
                       "Microsoft Graph (at most 4 MB per request, about 3 MB of "
                       "message); send it over SMTP (transport = auto with SMTP AUTH "
                       "on) or make it smaller");
        res->permanent = res->too_big = 1;
    } else if (s == 429 || s == 503 || s == 504)
        smtp_reply_set(r, 451, s == 429 ? "4.7.0" : "4.3.0", "exorelay: Graph %s for "
                       "%s (%ld %s); no request before %d s (Retry-After)",
                       s == 429 ? "throttled sending" : "unavailable", acct->mailbox, s,
                       a->code, a->retry_after);
    else
        smtp_reply_set(r, 451, "4.3.0", "exorelay: Graph answered %ld %s: %s", s,
                       a->code, a->message);
}
