/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 2449 LOGIN-DELAY policy (login-delay-policy.h). */

#include "lib.h"
#include "login-delay-policy.h"

bool login_delay_refuses(time_t last, time_t now, unsigned int delay,
			 time_t *elapsed_r)
{
	*elapsed_r = now >= last ? now - last : 0;
	if (delay == 0 || last == 0)
		return FALSE;
	return *elapsed_r < (time_t)delay && last <= now + (time_t)delay;
}
