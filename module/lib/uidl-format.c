/* SPDX-License-Identifier: LGPL-2.1-only */
/* UIDL format presets and expansion. */

#include "lib.h"
#include "str.h"
#include "strnum.h"
#include "altpop-limits.h"
#include "uidl-format.h"

#include <ctype.h>

/* Longest width accepted in a format: anything larger can never give a
   valid UIDL. */
#define UIDL_FORMAT_MAX_WIDTH ALTPOP_UIDL_MAX_LEN

struct uidl_preset {
	const char *name, *format;
};

static const struct uidl_preset uidl_presets[] = {
	/* stock Dovecot 2.3 pop3 default */
	{ "dovecot", "%08Xu%08Xv" },
	/* Cyrus: uidvalidity.uid */
	{ "cyrus", "%v.%u" },
	/* Courier pop3d: the POP3 UID and UIDVALIDITY it keeps in
	   courierpop3dsizelist (list versions 2 and 3), which are not the
	   IMAP ones */
	{ "courier", "UID%u-%v" },
	/* UW-IMAP / UW ipop3d: hex uidvalidity then hex uid */
	{ "uw", "%08Xv%08Xu" },
};

struct uidl_var_ref {
	enum uidl_var_mask var;
	unsigned int width;
	bool zero_pad, hex, upper, lower;
};

static bool uidl_var_from_name(const char *name, size_t len,
			       enum uidl_var_mask *var_r)
{
	static const struct {
		const char *name;
		enum uidl_var_mask var;
	} names[] = {
		{ "u", UIDL_VAR_UID }, { "uid", UIDL_VAR_UID },
		{ "v", UIDL_VAR_UIDVALIDITY },
		{ "uidvalidity", UIDL_VAR_UIDVALIDITY },
		{ "m", UIDL_VAR_MD5 }, { "md5", UIDL_VAR_MD5 },
		{ "f", UIDL_VAR_FILENAME }, { "filename", UIDL_VAR_FILENAME },
		{ "g", UIDL_VAR_GUID }, { "guid", UIDL_VAR_GUID },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		if (strlen(names[i].name) == len &&
		    memcmp(names[i].name, name, len) == 0) {
			*var_r = names[i].var;
			return TRUE;
		}
	}
	return FALSE;
}

/* Parse one "%..." reference starting after the '%'. Returns the number of
   format characters consumed, 0 for "%%", -1 on error. */
static int uidl_format_parse_ref(const char *p, struct uidl_var_ref *ref_r,
				 const char **error_r)
{
	const char *start = p;

	i_zero(ref_r);
	if (*p == '0') {
		ref_r->zero_pad = TRUE;
		p++;
	}
	while (*p >= '0' && *p <= '9') {
		ref_r->width = ref_r->width * 10 + (*p - '0');
		if (ref_r->width > UIDL_FORMAT_MAX_WIDTH) {
			*error_r = "Variable width too large";
			return -1;
		}
		p++;
	}
	for (;; p++) {
		if (*p == 'X')
			ref_r->hex = TRUE;
		else if (*p == 'U')
			ref_r->upper = TRUE;
		else if (*p == 'L')
			ref_r->lower = TRUE;
		else
			break;
	}
	if (*p == '{') {
		const char *end = strchr(p, '}');
		if (end == NULL) {
			*error_r = "Missing '}'";
			return -1;
		}
		if (!uidl_var_from_name(p + 1, end - (p + 1), &ref_r->var)) {
			*error_r = t_strdup_printf("Unknown variable %%{%s}",
						   t_strdup_until(p + 1, end));
			return -1;
		}
		p = end + 1;
	} else if (*p == '\0') {
		*error_r = "Format ends with '%'";
		return -1;
	} else if (!uidl_var_from_name(p, 1, &ref_r->var)) {
		*error_r = t_strdup_printf("Unknown variable %%%c", *p);
		return -1;
	} else {
		p++;
	}
	return p - start;
}

/* One piece of a format: a literal character ("%%" gives '%') or a
   variable reference. */
struct uidl_format_piece {
	bool is_var;
	char literal;
	struct uidl_var_ref ref;
};

/* The one walk over a format every function here uses: returns 1 with the
   next piece, 0 at the end, -1 on a bad reference. */
static int uidl_format_next(const char **pos, struct uidl_format_piece *piece_r,
			    const char **error_r)
{
	const char *p = *pos;
	int ret;

	if (*p == '\0')
		return 0;
	if (*p != '%' || p[1] == '%') {
		piece_r->is_var = FALSE;
		piece_r->literal = *p;
		*pos = p + (*p == '%' ? 2 : 1);
		return 1;
	}
	if ((ret = uidl_format_parse_ref(p + 1, &piece_r->ref, error_r)) < 0)
		return -1;
	piece_r->is_var = TRUE;
	*pos = p + 1 + ret;
	return 1;
}

static int uidl_format_check(const char *format, const char **error_r)
{
	struct uidl_format_piece piece;
	enum uidl_var_mask vars = 0;
	int ret;

	while ((ret = uidl_format_next(&format, &piece, error_r)) > 0) {
		if (piece.is_var)
			vars |= piece.ref.var;
		else if ((unsigned char)piece.literal <= 0x20 ||
			 (unsigned char)piece.literal >= 0x7f) {
			*error_r = "Only printable characters other than "
				"space are allowed in a UIDL";
			return -1;
		}
	}
	if (ret < 0)
		return -1;
	if ((vars & (UIDL_VAR_UID | UIDL_VAR_MD5 | UIDL_VAR_FILENAME |
		     UIDL_VAR_GUID)) == 0) {
		*error_r = "Format must contain at least one of %u, %m, %f, %g "
			"(else UIDLs would not be unique)";
		return -1;
	}
	return 0;
}

int uidl_format_resolve(const char *setting, const char **format_r,
			const char **error_r)
{
	for (unsigned int i = 0; i < N_ELEMENTS(uidl_presets); i++) {
		if (strcmp(setting, uidl_presets[i].name) == 0) {
			*format_r = uidl_presets[i].format;
			return 0;
		}
	}
	if (strchr(setting, '%') == NULL) {
		*error_r = t_strdup_printf("Unknown preset '%s' (presets: "
			"dovecot, cyrus, courier, uw; or a format with "
			"%%u %%v %%m %%f %%g)", setting);
		return -1;
	}
	/* (set on every failure; initialised for newer GCCs, which cannot
	   see that through uidl_format_next()) */
	const char *check_error = "invalid format";
	if (uidl_format_check(setting, &check_error) < 0) {
		*error_r = t_strdup_printf("Invalid format '%s': %s",
					   setting, check_error);
		return -1;
	}
	*format_r = setting;
	return 0;
}

enum uidl_var_mask uidl_format_get_vars(const char *format)
{
	struct uidl_format_piece piece;
	enum uidl_var_mask vars = 0;
	const char *error;

	while (uidl_format_next(&format, &piece, &error) > 0) {
		if (piece.is_var)
			vars |= piece.ref.var;
	}
	return vars;
}

bool uidl_format_is_injective(const char *format)
{
	struct uidl_format_piece piece;
	const char *error;
	bool have_uid = FALSE;
	int ret;

	while ((ret = uidl_format_next(&format, &piece, &error)) > 0) {
		if (!piece.is_var)
			continue;
		switch (piece.ref.var) {
		case UIDL_VAR_UID:
			/* a truncated UID can repeat */
			if (piece.ref.width != 0 && !piece.ref.zero_pad)
				return FALSE;
			have_uid = TRUE;
			break;
		case UIDL_VAR_UIDVALIDITY:
			/* the same for every message of the maildrop */
			break;
		default:
			return FALSE;
		}
	}
	return ret == 0 && have_uid;
}

static void uidl_append_value(string_t *dest, const struct uidl_var_ref *ref,
			      const char *value)
{
	size_t len, start = str_len(dest);

	if (ref->hex) {
		unsigned long long num;
		if (str_to_ullong(value, &num) < 0)
			num = 0;
		value = t_strdup_printf("%llx", num);
	}
	len = strlen(value);
	if (ref->width == 0)
		str_append(dest, value);
	else if (!ref->zero_pad)
		str_append_data(dest, value, I_MIN(len, ref->width));
	else {
		for (; len < ref->width; len++)
			str_append_c(dest, '0');
		str_append(dest, value);
	}
	if (ref->upper || ref->lower) {
		char *p = str_c_modifiable(dest) + start;
		for (; *p != '\0'; p++)
			*p = ref->upper ? i_toupper(*p) : i_tolower(*p);
	}
}

int uidl_format_expand(string_t *dest, const char *format,
		       const struct uidl_vars *vars, const char **error_r)
{
	struct uidl_format_piece piece;
	size_t start = str_len(dest);
	const char *value;
	int ret;

	while ((ret = uidl_format_next(&format, &piece, error_r)) > 0) {
		struct uidl_var_ref *ref = &piece.ref;

		if (!piece.is_var) {
			str_append_c(dest, piece.literal);
			continue;
		}
		char numbuf[MAX_INT_STRLEN];
		switch (ref->var) {
		case UIDL_VAR_UID:
		case UIDL_VAR_UIDVALIDITY: {
			/* numbers are formatted straight from the value */
			uint32_t num = ref->var == UIDL_VAR_UID ?
				vars->uid : vars->uidvalidity;
			i_snprintf(numbuf, sizeof(numbuf), ref->hex ? "%x" : "%u",
				   num);
			ref->hex = FALSE;
			value = numbuf;
			break;
		}
		case UIDL_VAR_MD5:
			value = vars->md5;
			break;
		case UIDL_VAR_FILENAME:
			value = vars->filename;
			break;
		case UIDL_VAR_GUID:
			value = vars->guid;
			break;
		default:
			i_unreached();
		}
		if (value == NULL || value[0] == '\0') {
			*error_r = "A variable of the format has no value "
				"for this message (not supported by the "
				"mail storage?)";
			return -1;
		}
		uidl_append_value(dest, ref, value);
	}
	if (ret < 0)
		return -1;
	if (!uidl_is_valid(str_c(dest) + start, str_len(dest) - start)) {
		*error_r = t_strdup_printf("Expanded UIDL is not 1..%u "
					   "printable characters",
					   ALTPOP_UIDL_MAX_LEN);
		return -1;
	}
	return 0;
}

bool uidl_is_valid(const char *str, size_t len)
{
	if (len == 0 || len > ALTPOP_UIDL_MAX_LEN)
		return FALSE;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)str[i] < 0x21 ||
		    (unsigned char)str[i] > 0x7e)
			return FALSE;
	}
	return TRUE;
}
