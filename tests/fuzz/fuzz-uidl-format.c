/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: UIDL format strings (module/lib/uidl-format.c). Any string
   is either refused as a setting or gives only valid UIDLs (1..70 bytes of
   0x21..0x7E) or an expansion error; a format called injective gives two
   UIDs different UIDLs. Input: "format NUL uid(4) uidvalidity(4) uid2(4)
   filename". */

#include "lib.h"
#include "str.h"
#include "hex-binary.h"
#include "altpop-limits.h"
#include "uidl-format.h"
#include "fuzz-common.h"

static uint32_t take_u32(const unsigned char **p, size_t *left)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < 4 && *left > 0; i++) {
		v = (v << 8) | **p;
		(*p)++; (*left)--;
	}
	return v;
}

static bool uidl_expand_checked(const char *format,
				const struct uidl_vars *vars,
				const char **uidl_r)
{
	string_t *str = t_str_new(128);
	const char *error = NULL;

	if (uidl_format_expand(str, format, vars, &error) < 0) {
		i_assert(error != NULL);
		return FALSE;
	}
	i_assert(str_len(str) >= 1 && str_len(str) <= ALTPOP_UIDL_MAX_LEN);
	for (size_t i = 0; i < str_len(str); i++) {
		unsigned char c = str_data(str)[i];
		i_assert(c >= 0x21 && c <= 0x7e);
	}
	i_assert(uidl_is_valid(str_c(str), str_len(str)));
	*uidl_r = str_c(str);
	return TRUE;
}

void fuzz_one(const unsigned char *data, size_t size)
{
	const char *setting = fuzz_str(data, size), *format, *error = NULL;
	const char *uidl1, *uidl2;
	const unsigned char *p;
	size_t left;
	struct uidl_vars vars;
	unsigned char digest[16];
	uint32_t uid2;

	if (uidl_format_resolve(setting, &format, &error) < 0) {
		i_assert(error != NULL && error[0] != '\0');
		return;
	}
	(void)uidl_format_get_vars(format);

	p = data + strlen(setting);
	left = size - strlen(setting);
	if (left > 0) {
		p++; left--;
	}
	i_zero(&vars);
	vars.uid = take_u32(&p, &left);
	vars.uidvalidity = take_u32(&p, &left);
	uid2 = take_u32(&p, &left);
	for (unsigned int i = 0; i < sizeof(digest); i++)
		digest[i] = (unsigned char)(vars.uid * 31 + i);
	vars.md5 = binary_to_hex(digest, sizeof(digest));
	digest[0] ^= 0xff;
	vars.guid = binary_to_hex(digest, sizeof(digest));
	vars.filename = fuzz_str(p, left);

	if (!uidl_expand_checked(format, &vars, &uidl1))
		return;
	if (uidl_format_is_injective(format) && uid2 != vars.uid) {
		vars.uid = uid2;
		if (uidl_expand_checked(format, &vars, &uidl2))
			i_assert(strcmp(uidl1, uidl2) != 0);
	}
}
