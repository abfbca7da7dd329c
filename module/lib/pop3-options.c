/* SPDX-License-Identifier: LGPL-2.1-only */
/* Parsing the values of altpop's equivalents of Dovecot's pop3 settings:
   see include/pop3-options.h. */

#include "lib.h"
#include "str.h"
#include "pop3-options.h"

struct pop3_option_name {
	const char *name;
	unsigned int value;
};

static const struct pop3_option_name pop3_uidl_duplicates_names[] = {
	{ "unique", POP3_UIDL_DUPLICATES_UNIQUE },
	{ "allow", POP3_UIDL_DUPLICATES_ALLOW },
	{ "rename", POP3_UIDL_DUPLICATES_RENAME },
	{ NULL, 0 }
};

static const struct pop3_option_name pop3_workaround_names[] = {
	{ "outlook-no-nuls", POP3_WORKAROUND_OUTLOOK_NO_NULS },
	{ "oe-ns-eoh", POP3_WORKAROUND_OE_NS_EOH },
	{ NULL, 0 }
};

/* the names of a table, for an error message */
static const char *pop3_option_names(const struct pop3_option_name *names)
{
	string_t *str = t_str_new(64);

	for (; names->name != NULL; names++) {
		if (str_len(str) > 0)
			str_append(str, names[1].name == NULL ? " or " : ", ");
		str_append(str, names->name);
	}
	return str_c(str);
}

static bool pop3_option_lookup(const struct pop3_option_name *names,
			       const char *name, unsigned int *value_r)
{
	for (; names->name != NULL; names++) {
		if (strcmp(names->name, name) == 0) {
			*value_r = names->value;
			return TRUE;
		}
	}
	return FALSE;
}

int pop3_folders_parse(const char *value, pool_t pool,
		       const char *const **folders_r, const char **error_r)
{
	const char *const *names = t_strsplit_spaces(value, " ");
	unsigned int count = str_array_length(names);

	*folders_r = NULL;
	if (count == 0)
		return 0;
	if (strcasecmp(names[0], "INBOX") != 0) {
		*error_r = t_strdup_printf("altpop_folders: the list starts "
			"with INBOX (e.g. altpop_folders = INBOX %s)",
			names[0]);
		return -1;
	}
	if (count > POP3_FOLDERS_MAX) {
		*error_r = t_strdup_printf("altpop_folders: %u folders, at "
			"most %u", count, POP3_FOLDERS_MAX);
		return -1;
	}
	for (unsigned int i = 1; i < count; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(names[i], names[j]) == 0 ||
			    (j == 0 && strcasecmp(names[i], "INBOX") == 0)) {
				*error_r = t_strdup_printf("altpop_folders: "
					"%s is listed twice", names[i]);
				return -1;
			}
		}
	}
	*folders_r = count == 1 ? NULL :
		(const char *const *)p_strarray_dup(pool, names);
	return 0;
}

int pop3_delete_type_parse(const char *value, const char *deleted_flag,
			   enum pop3_delete_type *type_r,
			   const char **error_r)
{
	if (strcmp(value, "default") == 0) {
		*type_r = deleted_flag[0] == '\0' ?
			POP3_DELETE_TYPE_EXPUNGE : POP3_DELETE_TYPE_FLAG;
	} else if (strcmp(value, "expunge") == 0) {
		*type_r = POP3_DELETE_TYPE_EXPUNGE;
	} else if (strcmp(value, "flag") == 0) {
		if (deleted_flag[0] == '\0') {
			*error_r = "altpop_delete_type = flag needs "
				"altpop_deleted_flag (the keyword DELE sets, "
				"e.g. altpop_deleted_flag = $POP3Deleted)";
			return -1;
		}
		*type_r = POP3_DELETE_TYPE_FLAG;
	} else {
		*error_r = t_strdup_printf("altpop_delete_type: unknown value "
			"'%s' (use default, expunge or flag)", value);
		return -1;
	}
	return 0;
}

int pop3_uidl_duplicates_parse(const char *value,
			       enum pop3_uidl_duplicates *mode_r,
			       const char **error_r)
{
	unsigned int mode;

	if (!pop3_option_lookup(pop3_uidl_duplicates_names, value, &mode)) {
		*error_r = t_strdup_printf("altpop_uidl_duplicates: unknown "
			"value '%s' (use %s)", value,
			pop3_option_names(pop3_uidl_duplicates_names));
		return -1;
	}
	*mode_r = mode;
	return 0;
}

int pop3_client_workarounds_parse(const char *value,
				  enum pop3_client_workarounds *flags_r,
				  const char **error_r)
{
	const char *const *names = t_strsplit_spaces(value, " ,");
	unsigned int flag, flags = 0;

	for (; *names != NULL; names++) {
		if (!pop3_option_lookup(pop3_workaround_names, *names,
					&flag)) {
			*error_r = t_strdup_printf("altpop_client_workarounds: "
				"unknown workaround '%s' (known: %s)", *names,
				pop3_option_names(pop3_workaround_names));
			return -1;
		}
		flags |= flag;
	}
	*flags_r = flags;
	return 0;
}
