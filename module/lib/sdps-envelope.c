/* SPDX-License-Identifier: LGPL-2.1-only */
/* SDPS envelope: addresses from delivery headers, the *ENV reply. */

#include "lib.h"
#include "str.h"
#include "sdps-envelope.h"

const char *const *sdps_envelope_header_list(const char *setting)
{
	return t_strsplit_spaces(setting, " ,");
}

static bool sdps_envelope_address_valid(const char *addr)
{
	/* no CR/LF/space/control bytes: it goes into a reply line */
	for (; *addr != '\0'; addr++) {
		if ((unsigned char)*addr <= 0x20 || *addr == 0x7f)
			return FALSE;
	}
	return TRUE;
}

bool sdps_envelope_address(const char *value, const char **addr_r)
{
	const char *lt = strchr(value, '<'), *end;

	if (lt != NULL && (end = strchr(lt, '>')) != NULL)
		*addr_r = t_strdup_until(lt + 1, end);
	else {
		while (*value == ' ' || *value == '\t')
			value++;
		end = value;
		while (*end != '\0' && *end != ' ' && *end != '\t' &&
		       *end != ',')
			end++;
		*addr_r = t_strdup_until(value, end);
	}
	return sdps_envelope_address_valid(*addr_r);
}

bool sdps_envelope_local_part_is(const char *addr, const char *user)
{
	const char *at = strchr(addr, '@');
	size_t len = at == NULL ? strlen(addr) : (size_t)(at - addr);

	return strlen(user) == len && strncasecmp(addr, user, len) == 0;
}

void sdps_envelope_reply_append(string_t *dest, unsigned int msgnum,
				uoff_t size, const char *host,
				const char *sender, const char *recipient)
{
	str_printfa(dest, "+OK envelope follows\r\n"
		    "%u %"PRIuUOFF_T"\r\n%s\r\n%s\r\n%s\r\n.",
		    msgnum, size, host,
		    sender[0] == '\0' ? "<>" : sender,
		    recipient[0] == '\0' ? "<>" : recipient);
}
