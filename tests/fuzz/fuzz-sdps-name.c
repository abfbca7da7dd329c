/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: SDPS login names (module/lib/sdps-name.c). The first byte
   picks the separators, the rest is the name. */

#include "lib.h"
#include "str.h"
#include "sdps-name.h"
#include "fuzz-common.h"

#include <ctype.h>

void fuzz_one(const unsigned char *data, size_t size)
{
	static const char all_seps[] = "@+%!";
	char seps[sizeof(all_seps)];
	unsigned int n = 0;
	struct sdps_name name;
	const char *login, *result, *error;

	if (size == 0)
		return;
	for (unsigned int i = 0; i < strlen(all_seps); i++) {
		if ((data[0] & (1 << i)) != 0)
			seps[n++] = all_seps[i];
	}
	seps[n] = '\0';
	login = fuzz_str(data + 1, size - 1);
	if (sdps_name_parse(login, seps, &name, &error) < 0) {
		i_assert(error != NULL && error[0] != '\0');
		return;
	}
	i_assert(name.host[0] != '\0');
	i_assert(strlen(name.host) <= SDPS_HOST_MAX_LEN);
	i_assert(strlen(name.user) <= SDPS_USER_MAX_LEN);
	i_assert(strlen(login) <= SDPS_NAME_MAX_LEN);
	/* user and host are the name without one separator */
	if (name.user[0] == '\0')
		i_assert(strcmp(name.host, login) == 0);
	else {
		size_t ulen = strlen(name.user);

		i_assert(strncmp(login, name.user, ulen) == 0);
		i_assert(strchr(seps, login[ulen]) != NULL);
		i_assert(strcmp(login + ulen + 1, name.host) == 0);
	}
	/* safe characters only: nothing that could break a log line, an
	   auth request or a path */
	for (const char *p = login; *p != '\0'; p++)
		i_assert(i_isalnum(*p) || strchr(".-_=", *p) != NULL ||
			 strchr(seps, *p) != NULL);
	i_assert(sdps_name_expand("%{user}@%{host}", &name, &result,
				  &error) == 0);
	i_assert(strcmp(result, t_strconcat(name.user, "@", name.host,
					    NULL)) == 0);
	i_assert(sdps_name_expand("%{host}%%", &name, &result, &error) == 0);
	i_assert(strcmp(result, t_strconcat(name.host, "%", NULL)) == 0);
}
