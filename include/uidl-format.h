/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef UIDL_FORMAT_H
#define UIDL_FORMAT_H

/* UIDL format strings: presets and expansion.

   A format is text with variables: %u uid, %v uidvalidity, %m header MD5,
   %f storage file name / id, %g message GUID (or the long forms %{uid},
   %{uidvalidity}, %{md5}, %{filename}, %{guid}), and %% for '%'.
   Between '%' and the variable: an optional width ("0N" pads with zeros to
   at least N characters, "N" keeps at most the first N characters) and
   modifiers X (decimal to lower-case hex), U (upper case), L (lower case).
   These follow Dovecot's own pop3_uidl_format rules so the "dovecot"
   preset gives byte-identical UIDLs. */

enum uidl_var_mask {
	UIDL_VAR_UID		= 0x01,
	UIDL_VAR_UIDVALIDITY	= 0x02,
	UIDL_VAR_MD5		= 0x04,
	UIDL_VAR_FILENAME	= 0x08,
	UIDL_VAR_GUID		= 0x10,
};

struct uidl_vars {
	uint32_t uid, uidvalidity;
	const char *md5, *filename, *guid;
};

/* Resolve a preset name (dovecot, cyrus, courier, uw) or check a custom
   format. Returns 0 and the format in *format_r, or -1 with *error_r. */
int uidl_format_resolve(const char *setting, const char **format_r,
			const char **error_r);

/* Which variables a (checked) format uses. */
enum uidl_var_mask uidl_format_get_vars(const char *format);

/* Expand format into dest. Fails with -1 if the format is invalid or the
   result is not a valid UIDL (1..70 characters of 0x21..0x7E). dest is
   left with the partial result on failure. */
int uidl_format_expand(string_t *dest, const char *format,
		       const struct uidl_vars *vars, const char **error_r);

/* TRUE if the format gives every UID of one maildrop (one UIDVALIDITY) a
   different UIDL: it uses only %u and %v, and every %u in full. Then no
   two generated UIDLs can collide. */
bool uidl_format_is_injective(const char *format);

/* TRUE if str is a valid UIDL. */
bool uidl_is_valid(const char *str, size_t len);

#endif
