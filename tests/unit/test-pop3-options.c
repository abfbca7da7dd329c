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

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_delete_type,
		test_pop3_uidl_duplicates,
		test_pop3_client_workarounds,
		NULL
	};
	return test_run(test_functions);
}
