/*
 * deliver_route.c - one whole message through an account pool (pick.h):
 * pick an account with room, deliver, and on Exchange's quota refusal
 * take that mailbox out and send again through the next one. The message
 * is a file that can be rewound, so nothing is answered to anybody until
 * one mailbox took it or none can.
 */
#include <sys/types.h>
#include <unistd.h>

#include "common/log.h"
#include "pick.h"

/* deliver_routed - see pick.h */
int deliver_routed(struct pools *pools, const struct route *r, const char *sender,
                   char *const *rcpts, size_t nrcpt, int fd,
                   struct deliver_result *result, const struct conf_account **acct)
{
    off_t   start = lseek(fd, 0, SEEK_CUR);
    struct pick pk;
    struct smtp_reply err;
    int     rc = -1;

    *acct = NULL;
    for (size_t n = 0; n < r->n; n++) {
        if (pool_pick(pools, r, nrcpt, NULL, &pk, &err) < 0) {
            if (n == 0) {
                *result = (struct deliver_result) {.final = err};
            } else {
                result->final = err;    /* the last quota refusal's recipients stay */
            }
            return -1;
        }
        if (n > 0) {
            deliver_result_free(result);
            if (start < 0 || lseek(fd, start, SEEK_SET) != start) {
                pick_settle(&pk, 0, 0);
                return -1;              /* the 452 of the refusal stands */
            }
        }
        *acct = pk.acct;
        rc = deliver_message(pools, pk.acct, sender, rcpts, nrcpt, fd, result);
        pick_settle(&pk, rc == 0 ? nrcpt - result->nrefused : 0, result->quota);
        if (!result->quota)
            return rc;
        msg_info("deliver: mailbox %s is out of quota; trying the next mailbox of "
                 "its pool", (*acct)->mailbox);
    }
    return rc;
}
