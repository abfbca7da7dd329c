/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef EXPIRE_POLICY_H
#define EXPIRE_POLICY_H

/* RFC 2449 EXPIRE as altpop_expire writes it: "" (off: nothing announced,
   nothing removed), "never" (announced, nothing removed) or the days a
   retrieved message stays after its first retrieval (0: retrieved
   messages go at QUIT). */

#define EXPIRE_POLICY_OFF (-2)
#define EXPIRE_POLICY_NEVER (-1)
/* more days than this is a typo (100 years) */
#define EXPIRE_POLICY_MAX_DAYS 36500
#define EXPIRE_POLICY_SECS_PER_DAY (24*60*60)

/* Returns 0 with *days_r (EXPIRE_POLICY_OFF, EXPIRE_POLICY_NEVER or the
   days), or -1 with *error_r saying what is accepted. */
int expire_policy_parse(const char *value, int *days_r, const char **error_r);
/* The altpop_expire setting's check: as expire_policy_parse(), with the
   error naming the setting. Returns TRUE or FALSE. */
bool expire_policy_setting_check(const char *value, int *days_r,
				 const char **error_r);
/* The CAPA argument: NULL for off, "NEVER" or the days (data stack). */
const char *expire_policy_capa(int days);
/* TRUE if a message first retrieved at first is due for removal at now
   under days (never for EXPIRE_POLICY_OFF or EXPIRE_POLICY_NEVER). */
bool expire_policy_is_due(int days, time_t first, time_t now);

#endif
