/* SPDX-License-Identifier: LGPL-2.1-only */
/* SDPS login name parsing and mapping. */

#include "lib.h"
#include "str.h"
#include "altpop-compat.h"
#include "sdps-name.h"

#include <ctype.h>

static bool sdps_user_char_valid(char c)
{
	return i_isalnum(c) || c == '.' || c == '-' || c == '_' || c == '=';
}

static bool sdps_host_valid(const char *host, size_t len)
{
	if (len == 0 || len > SDPS_HOST_MAX_LEN)
		return FALSE;
	if (host[0] == '.' || host[0] == '-' || host[len-1] == '.')
		return FALSE;
	for (size_t i = 0; i < len; i++) {
		if (!i_isalnum(host[i]) && host[i] != '.' && host[i] != '-')
			return FALSE;
		if (host[i] == '.' && i + 1 < len && host[i+1] == '.')
			return FALSE;
	}
	return TRUE;
}

int sdps_name_parse(const char *name, const char *separators,
		    struct sdps_name *name_r, const char **error_r)
{
	size_t len = strlen(name), sep_pos = SIZE_MAX;

	if (len == 0) {
		*error_r = "Empty login name.";
		return -1;
	}
	if (len > SDPS_NAME_MAX_LEN) {
		*error_r = "Login name too long.";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (separators[0] != '\0' && strchr(separators, name[i]) != NULL) {
			if (sep_pos != SIZE_MAX) {
				*error_r = "Login name has more than one "
					"user/host separator.";
				return -1;
			}
			sep_pos = i;
		}
	}
	if (sep_pos == SIZE_MAX) {
		if (!sdps_host_valid(name, len)) {
			*error_r = "Invalid host name in login name.";
			return -1;
		}
		name_r->user = "";
		name_r->host = t_strdup(name);
		return 0;
	}
	if (sep_pos == 0 || sep_pos > SDPS_USER_MAX_LEN) {
		*error_r = sep_pos == 0 ? "Empty user part in login name." :
			"User part of login name too long.";
		return -1;
	}
	for (size_t i = 0; i < sep_pos; i++) {
		if (!sdps_user_char_valid(name[i])) {
			*error_r = "Invalid characters in user part of "
				"login name.";
			return -1;
		}
	}
	if (!sdps_host_valid(name + sep_pos + 1, len - sep_pos - 1)) {
		*error_r = "Invalid host name in login name.";
		return -1;
	}
	name_r->user = t_strndup(name, sep_pos);
	name_r->host = t_strdup(name + sep_pos + 1);
	return 0;
}

int sdps_name_expand(const char *template, const struct sdps_name *name,
		     const char **result_r, const char **error_r)
{
	string_t *str = t_str_new(64);

	for (const char *p = template; *p != '\0'; p++) {
		if (*p != '%') {
			str_append_c(str, *p);
		} else if (p[1] == '%') {
			str_append_c(str, '%');
			p++;
		} else if (altpop_str_begins(p, "%{user}")) {
			str_append(str, name->user);
			p += strlen("%{user}") - 1;
		} else if (altpop_str_begins(p, "%{host}")) {
			str_append(str, name->host);
			p += strlen("%{host}") - 1;
		} else {
			*error_r = t_strdup_printf("Unknown variable in '%s' "
				"(use %%{user} and %%{host})", template);
			return -1;
		}
	}
	if (str_len(str) == 0) {
		*error_r = "Login mapping gives an empty user name";
		return -1;
	}
	*result_r = str_c(str);
	return 0;
}

bool sdps_template_has_user(const char *template)
{
	return strstr(template, "%{user}") != NULL;
}
