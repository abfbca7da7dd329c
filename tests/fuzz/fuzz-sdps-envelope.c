/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: envelope addresses from delivery headers and the *ENV
   reply (module/lib/sdps-envelope.c). Input: "header value NUL user NUL
   header setting". Whatever the headers hold, an accepted address gives a
   *ENV block of exactly six CRLF-separated lines and a "." that fetchmail
   and getmail6 read unambiguously. */

#include "lib.h"
#include "str.h"
#include "sdps-envelope.h"
#include "fuzz-common.h"

static const char *next_str(const unsigned char **p, size_t *left)
{
	const char *s = fuzz_str(*p, *left);
	size_t len = strlen(s);

	len = I_MIN(len + 1, *left);
	*p += len; *left -= len;
	return s;
}

void fuzz_one(const unsigned char *data, size_t size)
{
	const char *value, *user, *setting, *addr, *const *lines;
	const char *const *names;
	string_t *reply;

	value = next_str(&data, &size);
	user = next_str(&data, &size);
	setting = next_str(&data, &size);

	names = sdps_envelope_header_list(setting);
	for (; *names != NULL; names++) {
		i_assert((*names)[0] != '\0');
		i_assert(strpbrk(*names, " ,") == NULL);
	}

	if (!sdps_envelope_address(value, &addr))
		return;
	i_assert(strlen(addr) <= strlen(value));
	for (const char *p = addr; *p != '\0'; p++)
		i_assert((unsigned char)*p > 0x20 && *p != 0x7f);
	if (sdps_envelope_local_part_is(addr, user)) {
		const char *at = strchr(addr, '@');
		i_assert(strlen(user) == (at == NULL ? strlen(addr) :
					  (size_t)(at - addr)));
	}

	reply = t_str_new(256);
	sdps_envelope_reply_append(reply, 1, 1234, "host.example", addr, addr);
	lines = t_strsplit(str_c(reply), "\n");
	i_assert(str_array_length(lines) == 6);
	for (unsigned int i = 0; i < 5; i++) {
		size_t len = strlen(lines[i]);
		i_assert(len >= 2 && lines[i][len - 1] == '\r');
		i_assert(strchr(lines[i], '\r') == lines[i] + len - 1);
	}
	i_assert(strcmp(lines[3], addr[0] == '\0' ? "<>\r" :
			t_strconcat(addr, "\r", NULL)) == 0);
	i_assert(strcmp(lines[5], ".") == 0);
}
