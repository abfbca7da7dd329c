/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 2449 EXPIRE policy values (expire-policy.h). */

#include "lib.h"
#include "strnum.h"
#include "expire-policy.h"

int expire_policy_parse(const char *value, int *days_r, const char **error_r)
{
	unsigned int days;

	if (value[0] == '\0') {
		*days_r = EXPIRE_POLICY_OFF;
		return 0;
	}
	if (strcasecmp(value, "never") == 0) {
		*days_r = EXPIRE_POLICY_NEVER;
		return 0;
	}
	if (str_to_uint(value, &days) < 0 || days > EXPIRE_POLICY_MAX_DAYS) {
		*error_r = t_strdup_printf("invalid value '%s' (use a number "
			"of days from 0 to %u, never, or nothing for off)",
			value, EXPIRE_POLICY_MAX_DAYS);
		return -1;
	}
	*days_r = (int)days;
	return 0;
}

bool expire_policy_setting_check(const char *value, int *days_r,
				 const char **error_r)
{
	const char *error;

	if (expire_policy_parse(value, days_r, &error) < 0) {
		*error_r = t_strdup_printf("altpop_expire: %s", error);
		return FALSE;
	}
	return TRUE;
}

const char *expire_policy_capa(int days)
{
	switch (days) {
	case EXPIRE_POLICY_OFF:
		return NULL;
	case EXPIRE_POLICY_NEVER:
		return "NEVER";
	default:
		return t_strdup_printf("%d", days);
	}
}

bool expire_policy_is_due(int days, time_t first, time_t now)
{
	if (days < 0)
		return FALSE;
	return now - first >= (time_t)days * EXPIRE_POLICY_SECS_PER_DAY;
}
