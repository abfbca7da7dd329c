/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/pop3-options.c */

#include "lib.h"
#include "test-common.h"
#include "pop3-options.h"

static void test_pop3_delete_type(void)
{
	enum pop3_delete_type type;
	const char *error;

	test_begin("pop3 options: altpop_delete_type");
	/* default: what the keyword says */
	test_assert(pop3_delete_type_parse("default", "", &type, &error) == 0);
	test_assert(type == POP3_DELETE_TYPE_EXPUNGE);
	test_assert(pop3_delete_type_parse("default", "$POP3Deleted", &type,
					   &error) == 0);
	test_assert(type == POP3_DELETE_TYPE_FLAG);
	/* expunge even with a keyword set */
	test_assert(pop3_delete_type_parse("expunge", "$POP3Deleted", &type,
					   &error) == 0);
	test_assert(type == POP3_DELETE_TYPE_EXPUNGE);
	test_assert(pop3_delete_type_parse("flag", "$POP3Deleted", &type,
					   &error) == 0);
	test_assert(type == POP3_DELETE_TYPE_FLAG);
	/* flag without a keyword: the error names the other setting */
	test_assert(pop3_delete_type_parse("flag", "", &type, &error) < 0);
	test_assert(strstr(error, "altpop_deleted_flag") != NULL);
	test_assert(pop3_delete_type_parse("Flag", "x", &type, &error) < 0);
	test_assert(strstr(error, "'Flag'") != NULL &&
		    strstr(error, "default, expunge or flag") != NULL);
	test_end();
}

static void test_pop3_uidl_duplicates(void)
{
	enum pop3_uidl_duplicates mode;
	const char *error;

	test_begin("pop3 options: altpop_uidl_duplicates");
	test_assert(pop3_uidl_duplicates_parse("unique", &mode, &error) == 0 &&
		    mode == POP3_UIDL_DUPLICATES_UNIQUE);
	test_assert(pop3_uidl_duplicates_parse("allow", &mode, &error) == 0 &&
		    mode == POP3_UIDL_DUPLICATES_ALLOW);
	test_assert(pop3_uidl_duplicates_parse("rename", &mode, &error) == 0 &&
		    mode == POP3_UIDL_DUPLICATES_RENAME);
	test_assert(pop3_uidl_duplicates_parse("", &mode, &error) < 0);
	test_assert(pop3_uidl_duplicates_parse("allow rename", &mode,
					       &error) < 0);
	test_assert_strcmp(error, "altpop_uidl_duplicates: unknown value "
			   "'allow rename' (use unique, allow or rename)");
	test_end();
}

static void test_pop3_client_workarounds(void)
{
	enum pop3_client_workarounds flags;
	const char *error;

	test_begin("pop3 options: altpop_client_workarounds");
	test_assert(pop3_client_workarounds_parse("", &flags, &error) == 0 &&
		    flags == 0);
	test_assert(pop3_client_workarounds_parse("outlook-no-nuls", &flags,
						  &error) == 0 &&
		    flags == POP3_WORKAROUND_OUTLOOK_NO_NULS);
	/* spaces or commas, any order, repeats harmless */
	test_assert(pop3_client_workarounds_parse(
			" oe-ns-eoh,outlook-no-nuls  oe-ns-eoh ", &flags,
			&error) == 0);
	test_assert(flags == (POP3_WORKAROUND_OUTLOOK_NO_NULS |
			      POP3_WORKAROUND_OE_NS_EOH));
	test_assert(pop3_client_workarounds_parse("oe-ns-eoh delay-newmail",
						  &flags, &error) < 0);
	test_assert_strcmp(error, "altpop_client_workarounds: unknown "
			   "workaround 'delay-newmail' (known: "
			   "outlook-no-nuls or oe-ns-eoh)");
	test_end();
}

static void test_pop3_folders(void)
{
	const char *const *folders;
	const char *error;
	pool_t pool = pool_alloconly_create("test folders", 256);

	test_begin("pop3 options: altpop_folders");
	test_assert(pop3_folders_parse("", pool, &folders, &error) == 0 &&
		    folders == NULL);
	test_assert(pop3_folders_parse(" INBOX ", pool, &folders,
				       &error) == 0 && folders == NULL);
	test_assert(pop3_folders_parse("INBOX Junk  Spam/Later", pool,
				       &folders, &error) == 0);
	test_assert(str_array_length(folders) == 3);
	test_assert_strcmp(folders[1], "Junk");
	test_assert_strcmp(folders[2], "Spam/Later");
	test_assert(pop3_folders_parse("Junk INBOX", pool, &folders,
				       &error) < 0);
	test_assert_strcmp(error, "altpop_folders: the list starts with "
			   "INBOX (e.g. altpop_folders = INBOX Junk)");
	test_assert(pop3_folders_parse("INBOX Junk Junk", pool, &folders,
				       &error) < 0);
	test_assert(strstr(error, "Junk is listed twice") != NULL);
	test_assert(pop3_folders_parse("INBOX inbox", pool, &folders,
				       &error) < 0);
	test_assert(pop3_folders_parse("INBOX a b c d e f g h i j k l m n o p",
				       pool, &folders, &error) < 0);
	test_assert(strstr(error, "at most 16") != NULL);
	test_end();
	pool_unref(&pool);
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_delete_type,
		test_pop3_uidl_duplicates,
		test_pop3_client_workarounds,
		test_pop3_folders,
		NULL
	};
	return test_run(test_functions);
}
