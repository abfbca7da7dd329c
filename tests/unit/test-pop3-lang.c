/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of the RFC 6856 LANG table and command (module/lib/pop3-lang.c) */

#include "lib.h"
#include "str.h"
#include "unichar.h"
#include "test-common.h"
#include "altpop-compat.h"
#include "pop3-lang.h"

/* The printf conversions of a text, in order ("%s%llu"); "%%" is none. */
static const char *text_conversions(const char *text)
{
	string_t *str = t_str_new(16);

	for (const char *p = text; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		while (*p != '\0' && strchr("lhz", *p) != NULL)
			str_append_c(str, *p++);
		if (*p == '\0')
			break;
		str_append_c(str, *p);
		str_append_c(str, ';');
	}
	return str_c(str);
}

static void test_pop3_lang_table(void)
{
	test_begin("pop3_lang table: every message in every language");
	for (unsigned int lang = 0; lang < POP3_LANG_COUNT; lang++) {
		test_assert_idx(pop3_lang_tag(lang)[0] != '\0', lang);
		test_assert_idx(pop3_lang_description(lang)[0] != '\0', lang);
		for (unsigned int msg = 0; msg < POP3_MSG_COUNT; msg++) {
			const char *text = pop3_lang_text(lang, msg);

			test_assert_idx(text != NULL, lang * 1000 + msg);
			if (text == NULL)
				continue;
			/* one line, UTF-8, no control characters */
			test_assert_idx(text[0] != '\0', lang * 1000 + msg);
			test_assert_idx(uni_utf8_str_is_valid(text),
					lang * 1000 + msg);
			for (const char *p = text; *p != '\0'; p++) {
				test_assert_idx((unsigned char)*p >= 0x20 &&
						*p != 0x7f, lang * 1000 + msg);
			}
			/* the same arguments as English */
			test_assert_strcmp_idx(text_conversions(text),
				text_conversions(pop3_lang_text(POP3_LANG_EN,
								 msg)),
				lang * 1000 + msg);
		}
	}
	test_end();
}

static void test_pop3_lang_match(void)
{
	static const struct {
		const char *range;
		bool found;
		enum pop3_lang lang;
	} tests[] = {
		{ "en", TRUE, POP3_LANG_EN },
		{ "EN", TRUE, POP3_LANG_EN },
		{ "it", TRUE, POP3_LANG_IT },
		{ "It", TRUE, POP3_LANG_IT },
		{ "it-CH", TRUE, POP3_LANG_IT },
		{ "en-GB-oed", TRUE, POP3_LANG_EN },
		{ "*", TRUE, POP3_LANG_DEFAULT },
		{ "de", FALSE, 0 },
		{ "i", FALSE, 0 },
		{ "ita", FALSE, 0 },
		{ "", FALSE, 0 },
		{ "it-", FALSE, 0 },
		{ "-it", FALSE, 0 },
		{ "1t", FALSE, 0 },
		{ "it_IT", FALSE, 0 },
		{ "**", FALSE, 0 },
		{ "it-*", FALSE, 0 },
		{ "toolongtag", FALSE, 0 },
		{ "it-aaaaaaaa-bbbbbbbb-cccccccc-dddddddd-eeeeeeee-ffffffff-"
		  "gggggggg",
		  FALSE, 0 },
	};
	enum pop3_lang lang;

	test_begin("pop3_lang_match");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		lang = POP3_LANG_COUNT;
		test_assert_idx(pop3_lang_match(tests[i].range, &lang) ==
				tests[i].found, i);
		if (tests[i].found)
			test_assert_idx(lang == tests[i].lang, i);
	}
	test_assert(pop3_lang_find("it", &lang) && lang == POP3_LANG_IT);
	test_assert(!pop3_lang_find("it-CH", &lang));
	test_assert(!pop3_lang_find("*", &lang));
	test_end();
}

static void test_pop3_lang_command(void)
{
	enum pop3_lang lang = POP3_LANG_EN;
	string_t *str = t_str_new(256);

	test_begin("pop3_lang_command");
	pop3_lang_command("", &lang, str);
	test_assert_strcmp(str_c(str), "+OK Language listing follows:\r\n"
			   "en English\r\nit Italiano\r\n.\r\n");
	test_assert(lang == POP3_LANG_EN);

	str_truncate(str, 0);
	pop3_lang_command("de", &lang, str);
	test_assert(altpop_str_begins(str_c(str), "-ERR Language not supported"));
	test_assert(lang == POP3_LANG_EN);

	str_truncate(str, 0);
	pop3_lang_command("it  ", &lang, str);
	test_assert_strcmp(str_c(str),
			   "+OK it Le risposte sono ora in italiano.\r\n");
	test_assert(lang == POP3_LANG_IT);

	/* refused in the current language, which stays */
	str_truncate(str, 0);
	pop3_lang_command("it en", &lang, str);
	test_assert(altpop_str_begins(str_c(str), "-ERR Lingua non disponibile"));
	test_assert(lang == POP3_LANG_IT);

	str_truncate(str, 0);
	pop3_lang_command("*", &lang, str);
	test_assert_strcmp(str_c(str), "+OK en Responses are now in English.\r\n");
	test_assert(lang == POP3_LANG_EN);
	test_end();
}

static void test_pop3_lang_printf(void)
{
	test_begin("pop3_lang_printf");
	test_assert_strcmp(pop3_lang_printf(POP3_LANG_EN,
		POP3_MSG_NO_SUCH_MESSAGE, 7ULL), "There's no message 7.");
	test_assert_strcmp(pop3_lang_printf(POP3_LANG_IT,
		POP3_MSG_LIST_MESSAGES, 3U), "3 messaggi:");
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_lang_table,
		test_pop3_lang_match,
		test_pop3_lang_command,
		test_pop3_lang_printf,
		NULL
	};
	return test_run(test_functions);
}
