/*
 * pace.c - the messages_per_minute pace of one mailbox (see pace.h).
 */
#include "pace.h"

/* pace_slot - GCRA: the theoretical arrival time tat moves one interval
 * per message; a message may go while tat is within the burst tolerance
 * of now. The slot is reserved before the caller sleeps, which keeps
 * concurrent senders in arrival order. */
double pace_slot(double *tat, int rate, double now, int reserve)
{
    double  interval = 60.0 / rate;
    double  tolerance = ((rate / 10 > 1 ? rate / 10 : 1) - 1) * interval;
    double  start = *tat < now ? now : *tat;

    if (reserve)
        *tat = start + interval;
    return start - tolerance - now;
}
