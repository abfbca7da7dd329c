/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef LOGIN_DELAY_POLICY_H
#define LOGIN_DELAY_POLICY_H

/* RFC 2449 LOGIN-DELAY as altpop_login_delay enforces it: a login sooner
   than delay seconds after the previous successful one is refused. */

/* TRUE if a login at now is refused, given the last successful login at
   last (0: none) and delay seconds (0: off). *elapsed_r is the seconds
   since the last login; a last login in the future (the clocks of servers
   sharing the maildrop differ a little) counts as now, one further in the
   future than the delay is nonsense and refuses nothing. */
bool login_delay_refuses(time_t last, time_t now, unsigned int delay,
			 time_t *elapsed_r);

#endif
