/*
 * pace.h - the messages_per_minute pace of one mailbox, as a pure
 * function of time (GCRA, the "generic cell rate algorithm"), so that
 * the pool can keep it and a test can drive it with its own clock.
 *
 * SYNOPSIS
 *	double pace_slot(&tat, rate, now, reserve)
 *		Seconds the next message waits at time now (seconds, any
 *		monotonic origin; <= 0: it may go at once). rate is
 *		messages a minute (> 0): at most rate/10 (at least 1) go at
 *		once, then one per 60/rate s, so any 60 s hold at most
 *		1.1 * rate. tat is the pace's state (0 before the first
 *		message); reserve: the message takes its slot (tat moves on).
 */
#ifndef EXORELAY_PACE_H
#define EXORELAY_PACE_H

double pace_slot(double *tat, int rate, double now, int reserve);

#endif
