/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef KPOP_FSM_DRIVE_H
#define KPOP_FSM_DRIVE_H

/* Test driver of altpop-kpop-login's KPOP state machine (module/login/
   kpop-fsm.c), shared by its unit test and its fuzz target: the bytes a
   KPOP client sends go in as input events as they arrive, the auth server
   is connected and the mechanism accepts the ticket, the POP3 lines after
   it go through the line reader and kpop_fsm_command(). Each action is
   written down ("kind(detail)[bytes and replies]=>new state ") and
   checked against the machine's promises (i_assert). The session's own
   part is done as kpop-session.c does it: the bad command counter reset
   of the commands it runs, and the end of a client whose input buffer
   fills up without a line (login-common's client_read()). */

#include "kpop-fsm.h"

/* altpop_login_max_bad_commands' default */
#define KPOP_FSM_DRIVE_MAX_BAD 3
/* altpop_kpop_services' default */
#define KPOP_FSM_DRIVE_SERVICES "pop pop3"

struct kpop_fsm_drive {
	struct kpop_fsm fsm;
	/* the state the record has written down last */
	enum kpop_state state;
	const unsigned char *wire;
	size_t wire_size;
	/* wire bytes the machine used before the POP3 lines */
	size_t consumed;
	/* where the POP3 lines start (0 until the machine reads commands) */
	size_t pop3_start;
	struct istream *input;
	/* the input buffer limit (the line limit); 0: the stream's own */
	size_t max_line;
	unsigned int bad_counter;
	/* the USER name the record has written down last */
	char *user;
	/* the client is gone (disconnected, failed) */
	bool ended;
	/* write reply texts down, not only +OK / -ERR */
	bool replies_text;
	string_t *record;
};

void kpop_fsm_drive_init(struct kpop_fsm_drive *drive,
			 const void *wire, size_t wire_size);
void kpop_fsm_drive_deinit(struct kpop_fsm_drive *drive);
/* The first avail bytes of the wire have arrived. */
void kpop_fsm_drive_feed(struct kpop_fsm_drive *drive, size_t avail);
/* Write an action down, check it and apply the session's part. */
void kpop_fsm_drive_record(struct kpop_fsm_drive *drive,
			   const struct kpop_action *action);

#endif
