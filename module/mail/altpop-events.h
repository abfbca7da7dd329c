/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_EVENTS_H
#define ALTPOP_EVENTS_H

/* events.c: altpop's own events (doc/events.md) */

extern struct event_category event_category_altpop;

/* A child event of parent named name, in category altpop (also for
   parents outside the session's event, such as a mailbox's). */
struct event *altpop_event_create(struct event *parent, const char *name);

#endif
